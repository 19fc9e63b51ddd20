/**
 * The database holds no plaintext value and no ORK (issue 3, DESIGN.md
 * principle 4). A sidecar on the `postgres` store tokenizes, detokenizes,
 * encrypts, decrypts and deletes distinctive values; then the operator dumps
 * the database with `pg_dump` (over mutual TLS, operator certificate) and the
 * test searches the dump for every value and every ORK — as UTF-8 text, hex
 * and base64 at every alignment — and the server's files (tables, WAL, every
 * other file under its data directory) for the raw bytes.
 *
 * "No ORK" covers the ORK string, the wrapped ORK inside it and the ORK's
 * 32 bytes themselves (unwrapped here with the local development KEK).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { IngestKey } from '../../clients/browser/sidekey-seal.js';
import { decodeOrkString, systemRandom } from '../../src/crypto/index.js';
import { kmsContext, LOCAL_KEK_FILE, LocalKek, loadOrCreateLocalKek } from '../../src/kms/index.js';
import type { TestDaemon } from '../support/daemon.js';
import { type Fleet, type IssuedOrk, startFleet } from '../support/fleet.js';
import { post } from '../support/http.js';
import { pgDump } from '../support/pg-dump.js';
import { sealOne } from '../support/seal.js';
import { encodedForms, found } from '../support/secrets.js';

const TENANT = 'secretive';
let fleet: Fleet;
let d: TestDaemon;
let orks: IssuedOrk[];

before(async () => {
  fleet = await startFleet();
  await fleet.createTenant(TENANT);
  orks = [await fleet.issueOrk(TENANT, 'first'), await fleet.issueOrk(TENANT, 'second')];
  // Token kinds (issue 11): a deterministic field and an fpe field.
  for (const args of [
    ['--field', 'pii_det', '--kind', 'deterministic'],
    ['--field', 'card', '--kind', 'fpe', '--keep-prefix', '4', '--keep-suffix', '2'],
  ]) {
    const r = await fleet.ops(['policy', 'set', '--tenant', TENANT, ...args]);
    assert.equal(r.code, 0, r.stderr);
  }
  d = await fleet.startSidecar();
});
after(async () => {
  await fleet?.destroy();
});

/** Values nobody else writes: a random part makes an accidental match impossible. */
function distinctive(shape: (tag: string) => string): string {
  return shape(randomBytes(6).toString('hex'));
}

/** Every regular file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...filesUnder(path));
    else if (st?.isFile()) out.push(path);
  }
  return out;
}

describe('the needle generator', () => {
  it('finds a value inside base64 and hex blobs at any offset', () => {
    const value = Buffer.from('a value that must be found 0123456789', 'utf8');
    for (let prefix = 0; prefix < 3; prefix++) {
      const blob = Buffer.concat([randomBytes(prefix), value, randomBytes(5)]);
      for (const text of [blob.toString('base64'), blob.toString('base64url'), blob.toString('hex')]) {
        assert.ok(found(text, encodedForms(value)) !== undefined, `offset ${prefix}`);
      }
    }
  });
});

describe('the database after real traffic', () => {
  it('holds no plaintext value and no ORK: not in pg_dump, not in any server file', async () => {
    const [first, second] = orks as [IssuedOrk, IssuedOrk];
    const first_ = () => first.ork;
    const tokenized = [
      distinctive((t) => `plaintext-email-${t}@example.org`),
      distinctive((t) => `Zoë Ünïcödé ${t} 東京都千代田区 🎉`),
      distinctive((t) => `${t}-${'long value with a repeating body '.repeat(40)}`),
      distinctive((t) => `4111-1111-1111-${t}`),
    ];
    const kept = distinctive((t) => `kept-by-the-second-ork-${t}`);
    const deleted = distinctive((t) => `deleted-soon-${t}@example.com`);
    const encrypted = [distinctive((t) => `encrypted-ssn-${t}`), distinctive((t) => `encrypted-note ${t} ✓`)];
    const deterministic = distinctive((t) => `deterministic-${t}@example.org`);
    const card = Array.from(randomBytes(16), (b) => String(b % 10)).join('');
    const values = [...tokenized, kept, deleted, ...encrypted, deterministic, card];
    const kinds: string[] = [];
    for (const [field, value] of [
      ['pii_det', deterministic],
      ['card', card],
    ] as const) {
      const t = await post(d.url, '/v1/tokenize', first_(), { tenant: TENANT, field, values: [value] });
      assert.equal(t.status, 200, t.text);
      kinds.push(t.body.tokens[0]);
    }

    const t1 = await post(d.url, '/v1/tokenize', first.ork, {
      tenant: TENANT,
      field: 'pii',
      values: tokenized,
    });
    assert.equal(t1.status, 200, t1.text);
    const t2 = await post(d.url, '/v1/tokenize', second.ork, {
      tenant: TENANT,
      field: 'pii',
      values: [kept],
    });
    assert.equal(t2.status, 200, t2.text);
    const t3 = await post(d.url, '/v1/tokenize', first.ork, {
      tenant: TENANT,
      field: 'pii',
      values: [deleted],
    });
    assert.equal(t3.status, 200, t3.text);
    const tokens: string[] = [...t1.body.tokens, ...t2.body.tokens];

    const r = await post(d.url, '/v1/detokenize', first.ork, {
      tenant: TENANT,
      tokens: [...t1.body.tokens, ...t3.body.tokens],
      purpose: 'no-plaintext test',
    });
    assert.deepEqual(
      r.body.results.map((x: { value: string }) => x.value),
      [...tokenized, deleted],
    );
    const del = await post(d.url, '/v1/tokens/delete', first.ork, { tenant: TENANT, tokens: t3.body.tokens });
    assert.deepEqual(del.body, { deleted: 1 });
    const e = await post(d.url, '/v1/encrypt', first.ork, {
      tenant: TENANT,
      field: 'ssn',
      plaintexts: encrypted,
      context: 'user:1',
    });
    assert.equal(e.status, 200, e.text);
    const back = await post(d.url, '/v1/decrypt', first.ork, {
      tenant: TENANT,
      field: 'ssn',
      ciphertexts: e.body.ciphertexts,
      context: 'user:1',
    });
    assert.deepEqual(
      back.body.results.map((x: { plaintext: string }) => x.plaintext),
      encrypted,
    );

    // End-to-end encrypted ingest (issue 14): a value sealed per suite,
    // tokenized; the ingest private keys are secrets below.
    const ingestKeys = await post(d.url, '/v1/ingest/keys', first.ork, { tenant: TENANT });
    assert.equal(ingestKeys.status, 200, ingestKeys.text);
    for (const key of ingestKeys.body.keys as IngestKey[]) {
      const value = distinctive((t) => `sealed-${key.keyId.split('_')[0]}-${t}`);
      values.push(value);
      const sealed = await sealOne(key, TENANT, 'pii', value);
      const t = await post(d.url, '/v1/tokenize', first.ork, {
        tenant: TENANT,
        field: 'pii',
        sealedValues: [sealed],
      });
      assert.equal(t.status, 200, t.text);
      tokens.push(...t.body.tokens);
    }

    // The ORKs as the organisation holds them, the KEK-wrapped ORK inside
    // them, and the raw ORK (unwrapped with the local development KEK).
    const kek = new LocalKek(loadOrCreateLocalKek(join(fleet.opsDir, LOCAL_KEK_FILE)).key, systemRandom);
    const orkSecrets: { name: string; bytes: Buffer; text?: string }[] = [];
    for (const o of orks) {
      const parts = decodeOrkString(o.ork);
      assert.ok(parts !== undefined);
      const raw = await kek.unwrap(parts.wrapped, kmsContext.ork(TENANT, o.orkId));
      assert.equal(raw.length, 32);
      orkSecrets.push(
        { name: `ORK string ${o.orkId}`, bytes: Buffer.from(o.ork), text: o.ork },
        {
          name: `ORK string body ${o.orkId}`,
          bytes: Buffer.from(o.ork.slice('sk_ork_'.length)),
          text: o.ork.slice('sk_ork_'.length),
        },
        { name: `wrapped ORK ${o.orkId}`, bytes: parts.wrapped },
        { name: `ORK ${o.orkId}`, bytes: raw },
      );
    }
    // The tenant's token root key, unwrapped: stored only wrapped.
    const [trkRow] = await fleet.pg.adminQuery<{ kek_ref: string; wrapped: Buffer }>(
      `select kek_ref, wrapped_key as wrapped from sidekey_token_keys where tenant = '${TENANT}'`,
    );
    assert.ok(trkRow !== undefined, 'the tenant has a token root key');
    const trk = await kek.unwrap(Buffer.from(trkRow.wrapped), kmsContext.tokenRootKey(TENANT));
    orkSecrets.push({ name: 'token root key', bytes: trk });
    // The ingest private keys (issue 14), unwrapped: stored only wrapped.
    const ingestRows = await fleet.pg.adminQuery<{ key_id: string; wrapped: Buffer }>(
      `select key_id, wrapped_key as wrapped from sidekey_ingest_keys where tenant = '${TENANT}'`,
    );
    assert.equal(ingestRows.length, 2, 'the tenant has its ingest key pairs');
    for (const row of ingestRows) {
      const seed = await kek.unwrap(Buffer.from(row.wrapped), kmsContext.ingestKey(TENANT, row.key_id));
      assert.equal(seed.length, 32);
      orkSecrets.push({ name: `ingest private key ${row.key_id}`, bytes: seed });
    }
    await kek.close();

    // Make sure the server's own files hold everything written so far.
    await fleet.pg.adminQuery('checkpoint');
    const dump = pgDump(fleet.pg);
    // The dump is of the right database and did see the traffic.
    for (const token of tokens) assert.ok(dump.includes(token), 'the dump holds the token records');
    assert.ok(dump.includes(kinds[0]!), 'the dump holds the deterministic token record');
    // An fpe record is stored under its storage id: the fpe token (which keeps
    // part of the value in clear) is not in the database either.
    assert.ok(!dump.includes(kinds[1]!), 'the fpe token is not in the dump');
    assert.match(dump, /fpe_[A-Za-z0-9_-]{22}/);
    for (const o of orks) assert.ok(dump.includes(o.orkId), 'the dump holds the ORK records (ids)');
    assert.ok(dump.includes('no-plaintext test'), 'the dump holds the audit events');

    const leaks: string[] = [];
    for (const v of values) {
      const hit = found(dump, [v, ...encodedForms(Buffer.from(v, 'utf8'))]);
      if (hit !== undefined) leaks.push(`value ${v.slice(0, 24)}… in pg_dump (as ${hit.slice(0, 16)}…)`);
    }
    for (const s of orkSecrets) {
      const hit = found(dump, [...(s.text === undefined ? [] : [s.text]), ...encodedForms(s.bytes)]);
      if (hit !== undefined) leaks.push(`${s.name} in pg_dump`);
    }

    const raw = [
      ...values.map((v) => ({ name: `value ${v.slice(0, 24)}…`, bytes: Buffer.from(v) })),
      ...orkSecrets,
    ];
    const files = filesUnder(fleet.pg.dataDir);
    let scanned = 0;
    for (const file of files) {
      const content = readFileSync(file);
      scanned += content.length;
      for (const s of raw) if (content.includes(s.bytes)) leaks.push(`${s.name} in ${file}`);
    }
    assert.ok(scanned > 1_000_000, 'the data directory was read');
    assert.deepEqual(leaks, [], 'no plaintext value and no ORK in the database');
  });
});
