/**
 * What a default `sidekey serve` loads (ADR-19, "memory"): the libraries of
 * features it has not used yet are imported at their first use, not at
 * start. The real command runs as a child process with a preloaded module
 * logger (test/support/module-log.mjs: every URL its ESM loader resolves);
 * each lazily loaded library must be absent after start and a plain
 * tokenize, and the feature must work — and the library be loaded — after
 * its first use:
 *   - HPKE (@hpke/*, ML-KEM): the first ingest key / sealed request;
 *   - @noble/ciphers (FF1 and its AES tables): the first fpe tokenize.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { sidekey } from '../support/cli.js';
import { freshDataDir } from '../support/daemon.js';
import { post } from '../support/http.js';
import { type Child, freePort, spawnSidekey, waitServing } from '../support/process.js';
import { sealOne } from '../support/seal.js';

const HOOK = pathToFileURL(join(import.meta.dirname, '..', 'support', 'module-log.mjs')).href;
/** Packages a default daemon must not load before their feature is used, by where they are used first. */
const HPKE = ['@hpke/core', '@hpke/dhkem-x25519', '@hpke/hybridkem-x-wing', 'mlkem'];
const FPE = ['@noble/ciphers'];

let dataDir: string;
let logDir: string;
let logFile: string;
let child: Child;
let url: string;
let ork: string;

/** The packages (under node_modules) the child has resolved so far. */
function loadedPackages(): Set<string> {
  const out = new Set<string>();
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line);
    if (m !== null) out.add(m[1]!);
  }
  return out;
}

/** A fresh `sidekey serve` on the data directory, logging its modules to a fresh file. */
async function serve(name: string): Promise<void> {
  logFile = join(logDir, `${name}.log`);
  const port = await freePort();
  child = spawnSidekey(['serve'], {
    SIDEKEY_DATA_DIR: dataDir,
    SIDEKEY_HTTP_PORT: String(port),
    SIDEKEY_TEST_MODULE_LOG: logFile,
    NODE_OPTIONS: `--import=${HOOK}`,
  });
  await waitServing(child);
  url = `http://127.0.0.1:${port}`;
  ork = readFileSync(join(dataDir, 'demo.ork'), 'utf8').trim();
}

async function stop(): Promise<void> {
  if (child !== undefined && child.proc.exitCode === null) {
    child.proc.kill('SIGTERM');
    const { code } = await child.exited;
    assert.equal(code, 0, child.stderr);
  }
}

before(async () => {
  dataDir = await freshDataDir();
  logDir = mkdtempSync(join(tmpdir(), 'sidekey-modules-'));
  await serve('first');
});

after(async () => {
  await stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(logDir, { recursive: true, force: true });
});

describe('a default serve loads at start only what serving needs', () => {
  it('the module log sees the libraries serving needs (the control: the log can list a package)', () => {
    const loaded = loadedPackages();
    for (const p of ['hono', '@grpc/grpc-js', 'pino']) assert.ok(loaded.has(p), `${p} not in the module log`);
  });

  it('the HPKE and FF1 libraries are not loaded by start and a plain tokenize', async () => {
    const r = await post(url, '/v1/tokenize', ork, { tenant: 'demo', field: 'f', values: ['plain'] });
    assert.equal(r.status, 200, r.text);
    const loaded = loadedPackages();
    for (const p of [...HPKE, ...FPE]) assert.ok(!loaded.has(p), `${p} was loaded before its first use`);
  });

  it('a sealed tokenize works after the lazy load, which loads them', async () => {
    const keys = await post(url, '/v1/ingest/keys', ork, { tenant: 'demo' });
    assert.equal(keys.status, 200, keys.text);
    const key = keys.body.keys.find((k: { suite?: string; kem: string }) => k.kem === 'X-Wing');
    assert.ok(key, JSON.stringify(keys.body));
    const sealed = await sealOne(key, 'demo', 'f', 'sealed value');
    const t = await post(url, '/v1/tokenize', ork, { tenant: 'demo', field: 'f', sealedValues: [sealed] });
    assert.equal(t.status, 200, t.text);
    const d = await post(url, '/v1/detokenize', ork, { tenant: 'demo', tokens: t.body.tokens });
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.results[0].value, 'sealed value');
    const loaded = loadedPackages();
    for (const p of ['@hpke/core', '@hpke/hybridkem-x-wing'])
      assert.ok(loaded.has(p), `${p} not loaded after a sealed request`);
  });

  it('with an fpe field: FF1 is not loaded by start, and an fpe tokenize works after the lazy load', async () => {
    await stop();
    const policy = await sidekey(
      [
        'policy',
        'set',
        '--tenant',
        'demo',
        '--field',
        'card',
        '--kind',
        'fpe',
        '--alphabet',
        'digits',
        '--keep-prefix',
        '6',
        '--keep-suffix',
        '4',
      ],
      { SIDEKEY_DATA_DIR: dataDir },
    );
    assert.equal(policy.code, 0, policy.stderr);
    await serve('fpe');
    const plain = await post(url, '/v1/tokenize', ork, { tenant: 'demo', field: 'f', values: ['plain'] });
    assert.equal(plain.status, 200, plain.text);
    for (const p of FPE) assert.ok(!loadedPackages().has(p), `${p} was loaded before the first fpe tokenize`);
    const card = '4111 1111 1111 1111';
    const t = await post(url, '/v1/tokenize', ork, { tenant: 'demo', field: 'card', values: [card] });
    assert.equal(t.status, 200, t.text);
    const token: string = t.body.tokens[0];
    assert.match(token, /^4111 11\d\d \d{4} 1111$/);
    assert.notEqual(token, card);
    const d = await post(url, '/v1/detokenize', ork, { tenant: 'demo', field: 'card', tokens: [token] });
    assert.equal(d.status, 200, d.text);
    assert.equal(d.body.results[0].value, card);
    for (const p of FPE) assert.ok(loadedPackages().has(p), `${p} not loaded after an fpe tokenize`);
  });
});
