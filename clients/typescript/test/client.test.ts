/**
 * The TypeScript client against a real daemon (the real composition root,
 * HTTP listener and gRPC socket): the same cases over both transports, then
 * errors, retries, request ids and configuration from the environment.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../../../test/support/daemon.js';
import { createSealer } from '../../browser/sidekey-seal.js';
import { createGrpcClient } from '../src/grpc.js';
import { createHttpClient, type SidekeyClient, SidekeyConfigError, SidekeyError } from '../src/index.js';

const UNKNOWN_TOKEN = 'tok_AAAAAAAAAAAAAAAAAAAAAA';
let d: TestDaemon;
const dir = mkdtempSync(join(tmpdir(), 'sidekey-client-'));

before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

async function rejectsWith(p: Promise<unknown>, code: string): Promise<SidekeyError> {
  const err = await p.then(
    () => assert.fail(`expected ${code}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof SidekeyError, `a SidekeyError, not ${String(err)}`);
  assert.equal(err.code, code, err.message);
  return err;
}

const transports: Record<string, (o?: { ork?: string; retry?: object }) => SidekeyClient> = {
  http: (o = {}) => createHttpClient({ url: d.url, ork: d.ork, ...o }),
  grpc: (o = {}) => createGrpcClient({ socket: d.daemon.grpcSocket, ork: d.ork, ...o }),
};

for (const [name, make] of Object.entries(transports)) {
  describe(`client over ${name}`, () => {
    it('tokenizes and detokenizes, with per-item errors as typed values', async () => {
      const sk = make();
      try {
        const { tokens } = await sk.tokenize({
          tenant: 'demo',
          field: 'email',
          values: ['ana@example.com', ''],
        });
        assert.equal(tokens.length, 2);
        const { results } = await sk.detokenize({
          tenant: 'demo',
          tokens: [...tokens, UNKNOWN_TOKEN],
          purpose: 't',
        });
        assert.deepEqual(results, [
          { value: 'ana@example.com' },
          { value: '' },
          { error: { code: 'NOT_FOUND', message: 'token not found' } },
        ]);
        assert.deepEqual(await sk.deleteTokens({ tenant: 'demo', tokens: [tokens[0]!, UNKNOWN_TOKEN] }), {
          deleted: 1,
        });
        const again = await sk.detokenize({ tenant: 'demo', tokens: [tokens[0]!] });
        assert.equal(again.results[0]?.error?.code, 'NOT_FOUND');
      } finally {
        sk.close();
      }
    });

    it('gets the ingest keys and tokenizes values sealed to them (v1.1)', async () => {
      const sk = make();
      try {
        const { keys } = await sk.getIngestKeys({ tenant: 'demo' });
        assert.deepEqual(
          keys.map((k) => k.kem),
          ['X-Wing', 'DHKEM(X25519, HKDF-SHA256)'],
        );
        const sealer = await createSealer(keys, { tenant: 'demo' });
        const sealedValues = await sealer.seal('email', [`sealed-${name}@example.com`]);
        const { tokens } = await sk.tokenize({ tenant: 'demo', field: 'email', sealedValues });
        const { results } = await sk.detokenize({ tenant: 'demo', tokens });
        assert.deepEqual(results, [{ value: `sealed-${name}@example.com` }]);
        const { ciphertexts } = await sk.encrypt({
          tenant: 'demo',
          field: 'email',
          sealedPlaintexts: await sealer.seal('email', ['x']),
        });
        assert.equal(ciphertexts.length, 1);
      } finally {
        sk.close();
      }
    });

    it('encrypts and decrypts; a wrong context is an item error', async () => {
      const sk = make();
      try {
        const { ciphertexts } = await sk.encrypt({
          tenant: 'demo',
          field: 'ssn',
          plaintexts: ['078-05-1120'],
          context: 'u:1',
        });
        const ok = await sk.decrypt({ tenant: 'demo', field: 'ssn', ciphertexts, context: 'u:1' });
        assert.deepEqual(ok.results, [{ plaintext: '078-05-1120' }]);
        const wrong = await sk.decrypt({ tenant: 'demo', field: 'ssn', ciphertexts, context: 'u:2' });
        assert.equal(wrong.results[0]?.error?.code, 'INVALID_ARGUMENT');
        assert.equal(wrong.results[0]?.plaintext, undefined);
      } finally {
        sk.close();
      }
    });

    it('throws SidekeyError with the code and the request id, and does not retry it', async () => {
      const retries: number[] = [];
      const sk = make({ retry: { onRetry: (r: { attempt: number }) => retries.push(r.attempt) } });
      try {
        const bad = sk.tokenize(
          { tenant: 'Not A Tenant', field: 'email', values: ['x'] },
          { requestId: 'req-17' },
        );
        const err = await rejectsWith(bad, 'INVALID_ARGUMENT');
        assert.equal(err.requestId, 'req-17');
        assert.equal(err.retryable, false);
        assert.match(err.message, /tenant/);
        assert.deepEqual(retries, []);
      } finally {
        sk.close();
      }
      const foreign = make({ ork: `${d.ork.slice(0, -4)}AAAA` });
      try {
        await rejectsWith(
          foreign.tokenize({ tenant: 'demo', field: 'email', values: ['x'] }),
          'UNAUTHENTICATED',
        );
      } finally {
        foreign.close();
      }
    });
  });
}

describe('retries', () => {
  it('retries UNAVAILABLE with backoff, then gives up (HTTP: nothing listens)', async () => {
    const retries: number[] = [];
    const sk = createHttpClient({
      url: 'http://127.0.0.1:1',
      ork: 'x',
      retry: { attempts: 3, baseDelayMs: 1, onRetry: (r) => retries.push(r.attempt) },
    });
    const err = await rejectsWith(sk.tokenize({ tenant: 'demo', field: 'f', values: ['v'] }), 'UNAVAILABLE');
    assert.equal(err.retryable, true);
    assert.deepEqual(retries, [1, 2]);
  });

  it('retries UNAVAILABLE (gRPC: no socket)', async () => {
    const retries: number[] = [];
    const sk = createGrpcClient({
      socket: join(dir, 'absent.sock'),
      ork: 'x',
      retry: { attempts: 2, baseDelayMs: 1, onRetry: (r) => retries.push(r.attempt) },
    });
    try {
      await rejectsWith(sk.tokenize({ tenant: 'demo', field: 'f', values: ['v'] }), 'UNAVAILABLE');
      assert.deepEqual(retries, [1]);
    } finally {
      sk.close();
    }
  });

  it('succeeds on a retry with the same request id', async () => {
    const ids: (string | null)[] = [];
    let failures = 1;
    const flaky: typeof fetch = async (input, init) => {
      ids.push(new Headers(init?.headers).get('x-request-id'));
      if (failures-- > 0) throw new TypeError('fetch failed');
      return fetch(input, init);
    };
    const sk = createHttpClient({ url: d.url, ork: d.ork, fetch: flaky, retry: { baseDelayMs: 1 } });
    const { tokens } = await sk.tokenize({ tenant: 'demo', field: 'email', values: ['x@example.com'] });
    assert.equal(tokens.length, 1);
    assert.equal(ids.length, 2);
    assert.equal(ids[0], ids[1]);
  });

  it('does not retry RESOURCE_EXHAUSTED (rate limit)', async () => {
    const limited = await startTestDaemon({ SIDEKEY_RATE_LIMIT_RPS: '1', SIDEKEY_RATE_LIMIT_BURST: '1' });
    try {
      const retries: number[] = [];
      const sk = createHttpClient({
        url: limited.url,
        ork: limited.ork,
        retry: { onRetry: (r) => retries.push(r.attempt) },
      });
      const outcomes = [];
      for (let i = 0; i < 5; i++) {
        outcomes.push(
          await sk.tokenize({ tenant: 'demo', field: 'f', values: ['v'] }).then(
            () => 'ok',
            (e: SidekeyError) => e.code,
          ),
        );
      }
      assert.ok(outcomes.includes('RESOURCE_EXHAUSTED'), outcomes.join());
      assert.deepEqual(retries, []);
    } finally {
      await limited.destroy();
    }
  });
});

describe('configuration from the environment', () => {
  it('reads SIDEKEY_URL and the ORK from SIDEKEY_ORK_FILE (whitespace around it removed)', async () => {
    const file = join(dir, 'demo.ork');
    writeFileSync(file, `\n${d.ork}\n`);
    const sk = createHttpClient({
      env: { SIDEKEY_URL: `${d.url}/`, SIDEKEY_ORK_FILE: file, SIDEKEY_ORK: 'ignored' },
    });
    assert.equal((await sk.tokenize({ tenant: 'demo', field: 'f', values: ['v'] })).tokens.length, 1);
  });

  it('reads SIDEKEY_GRPC_SOCKET and SIDEKEY_ORK', async () => {
    const sk = createGrpcClient({ env: { SIDEKEY_GRPC_SOCKET: d.daemon.grpcSocket, SIDEKEY_ORK: d.ork } });
    try {
      assert.equal((await sk.tokenize({ tenant: 'demo', field: 'f', values: ['v'] })).tokens.length, 1);
    } finally {
      sk.close();
    }
  });

  it('refuses to start without an ORK or a socket, naming what to set', () => {
    assert.throws(
      () => createHttpClient({ env: {} }),
      (e) => e instanceof SidekeyConfigError && /SIDEKEY_ORK/.test(e.message),
    );
    assert.throws(
      () => createHttpClient({ env: { SIDEKEY_ORK_FILE: join(dir, 'missing') } }),
      (e) => e instanceof SidekeyConfigError && /ENOENT/.test(e.message),
    );
    assert.throws(() => createGrpcClient({ env: { SIDEKEY_ORK: 'x' } }), /SIDEKEY_GRPC_SOCKET/);
  });
});
