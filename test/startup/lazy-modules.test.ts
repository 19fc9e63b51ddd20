/**
 * What a default `sidekey serve` loads (ADR-19, "memory"): the libraries of
 * features it has not used yet are imported at their first use, not at
 * start. The real command runs as a child process with a preloaded module
 * logger (test/support/module-log.mjs: every URL its ESM loader resolves);
 * each lazily loaded library must be absent after start and a plain
 * tokenize, and the feature must work — and the library be loaded — after
 * its first use.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { freshDataDir } from '../support/daemon.js';
import { post } from '../support/http.js';
import { type Child, freePort, spawnSidekey, waitServing } from '../support/process.js';
import { sealOne } from '../support/seal.js';

const HOOK = pathToFileURL(join(import.meta.dirname, '..', 'support', 'module-log.mjs')).href;
/** Packages a default daemon must not load before their feature is used, by where they are used first. */
const HPKE = ['@hpke/core', '@hpke/dhkem-x25519', '@hpke/hybridkem-x-wing', 'mlkem'];

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

before(async () => {
  dataDir = await freshDataDir();
  logDir = mkdtempSync(join(tmpdir(), 'sidekey-modules-'));
  logFile = join(logDir, 'modules.log');
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
});

after(async () => {
  if (child !== undefined && child.proc.exitCode === null) {
    child.proc.kill('SIGTERM');
    await child.exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(logDir, { recursive: true, force: true });
});

describe('a default serve loads at start only what serving needs', () => {
  it('the module log sees the libraries serving needs (the control: the log can list a package)', () => {
    const loaded = loadedPackages();
    for (const p of ['hono', '@grpc/grpc-js', 'pino']) assert.ok(loaded.has(p), `${p} not in the module log`);
  });

  it('the HPKE libraries are not loaded by start and a plain tokenize', async () => {
    const r = await post(url, '/v1/tokenize', ork, { tenant: 'demo', field: 'f', values: ['plain'] });
    assert.equal(r.status, 200, r.text);
    const loaded = loadedPackages();
    for (const p of HPKE) assert.ok(!loaded.has(p), `${p} was loaded before the first sealed request`);
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
});
