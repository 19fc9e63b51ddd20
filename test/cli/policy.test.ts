/** `sidekey policy set|get|list|delete` (API.md "Field policies"), run through the real CLI on an embedded store. */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { sidekey } from '../support/cli.js';
import { freshDataDir } from '../support/daemon.js';

let env: Record<string, string>;
let dir: string;
before(async () => {
  dir = await freshDataDir();
  env = { SIDEKEY_DATA_DIR: dir };
  assert.equal((await sidekey(['tenant', 'create', 'shop'], env)).code, 0);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const run = (...args: string[]) => sidekey(args, env);
const getJson = async (field: string) =>
  JSON.parse((await run('policy', 'get', '--tenant', 'shop', '--field', field, '--json')).stdout);

describe('policy commands', () => {
  it('set creates from random/redact/no TTL, keeps what is not given, and get/list show it as JSON', async () => {
    const set = await run(
      'policy',
      'set',
      '--tenant',
      'shop',
      '--field',
      'card',
      '--kind',
      'fpe',
      '--keep-prefix',
      '6',
      '--keep-suffix',
      '4',
      '--json',
    );
    assert.equal(set.code, 0, set.stderr);
    const shown = JSON.parse(set.stdout);
    assert.deepEqual(
      { ...shown, createdAt: typeof shown.createdAt, updatedAt: typeof shown.updatedAt },
      {
        tenant: 'shop',
        field: 'card',
        kind: 'fpe',
        mask: 'redact',
        ttlSeconds: null,
        alphabet: 'digits',
        keepPrefix: 6,
        keepSuffix: 4,
        createdAt: 'string',
        updatedAt: 'string',
      },
    );
    assert.equal(
      (await run('policy', 'set', '--tenant', 'shop', '--field', 'card', '--mask', 'last4', '--ttl', '90d'))
        .code,
      0,
    );
    const changed = await getJson('card');
    assert.deepEqual(
      [changed.kind, changed.keepPrefix, changed.mask, changed.ttlSeconds],
      ['fpe', 6, 'last4', 7_776_000],
    );
    assert.equal(
      (await run('policy', 'set', '--tenant', 'shop', '--field', 'email', '--kind', 'deterministic')).code,
      0,
    );
    const email = await getJson('email');
    assert.equal(email.kind, 'deterministic');
    assert.equal(email.alphabet, undefined, 'fpe options only for fpe');
    const list = JSON.parse((await run('policy', 'list', '--tenant', 'shop', '--json')).stdout);
    assert.deepEqual(
      list.map((p: { field: string }) => p.field),
      ['card', 'email'],
    );
    const text = await run('policy', 'list', '--tenant', 'shop');
    assert.match(text.stdout, /^field\s+kind/);
  });

  it('refuses bad input with one line and a non-zero exit, changing nothing', async () => {
    const before = await getJson('card');
    const cases: [string[], RegExp][] = [
      [['--kind', 'tokenish'], /--kind must be one of random, deterministic, fpe/],
      [['--alphabet', 'a'], /at least 2 characters/],
      [['--alphabet', 'abcab'], /must not repeat a character/],
      [['--keep-prefix', '200', '--keep-suffix', '55'], /too few characters to encrypt/],
      [['--mask', 'stars'], /--mask must be one of/],
      [['--ttl=-1d'], /--ttl must be like/],
      [['--ttl', '0d'], /--ttl must be like/],
      [['--ttl', '-1d'], /Option '--ttl' argument is ambiguous/],
      [['--kind', 'random', '--alphabet', 'digits'], /apply to --kind fpe only/],
    ];
    for (const [args, message] of cases) {
      const r = await run('policy', 'set', '--tenant', 'shop', '--field', 'card', ...args);
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
      assert.equal(r.stdout, '');
    }
    assert.deepEqual(await getJson('card'), before, 'policy unchanged');
    const unknownTenant = await run(
      'policy',
      'set',
      '--tenant',
      'nope',
      '--field',
      'f',
      '--kind',
      'deterministic',
    );
    assert.equal(unknownTenant.code, 1);
    assert.match(unknownTenant.stderr, /tenant nope does not exist/);
    const badField = await run('policy', 'set', '--tenant', 'shop', '--field', 'a b');
    assert.equal(badField.code, 2);
    const missing = await run('policy', 'get', '--tenant', 'shop', '--field', 'other');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /has no policy/);
  });

  it('delete goes back to v1 behaviour; every change is in the audit trail', async () => {
    assert.equal((await run('policy', 'delete', '--tenant', 'shop', '--field', 'email')).code, 0);
    assert.equal(
      (await run('policy', 'delete', '--tenant', 'shop', '--field', 'email')).code,
      1,
      'nothing left to delete',
    );
    assert.equal((await run('policy', 'get', '--tenant', 'shop', '--field', 'email')).code, 1);
    const verify = await run('audit', 'verify', '--json');
    assert.equal(verify.code, 0, verify.stderr);
    const { openEmbeddedStore } = await import('../../src/store/index.js');
    const store = await openEmbeddedStore(dir);
    try {
      const events: string[] = [];
      for (const chain of await store.listAuditChains())
        for (const e of await store.readAuditEvents(chain.chainId, 0, 1000)) events.push(e.event);
      const ops = events.map((e) => JSON.parse(e)).filter((e) => e.operation.startsWith('policy.'));
      assert.ok(
        ops.some(
          (e) =>
            e.operation === 'policy.set' &&
            e.outcome === 'ok' &&
            e.detail.kind === 'fpe' &&
            e.detail.keepPrefix === 6,
        ),
      );
      assert.ok(
        ops.some((e) => e.operation === 'policy.set' && e.outcome === 'FAILED_PRECONDITION'),
        'refusals are audited',
      );
      assert.ok(
        ops.some((e) => e.operation === 'policy.delete' && e.outcome === 'ok' && e.fields[0] === 'email'),
      );
    } finally {
      await store.close();
    }
  });
});
