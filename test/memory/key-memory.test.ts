/**
 * Key-memory evidence (issue 18): after keys were evicted from the caches,
 * and after the graceful shutdown path, a daemon's memory holds no copy of
 * the TEK, the ORK or the FDK it used — nor, after shutdown, of the local KEK.
 *
 * The daemon runs in a process of its own (test/memory/daemon-child.ts). The keys are unwrapped here, in the test process,
 * from the data directory before the daemon starts, and checked against a
 * ciphertext the daemon returned (so the needles are the keys it really
 * used). At each point this test searches:
 *   - a V8 heap snapshot of the daemon (written after a full GC): every
 *     string in it, for each key in hex, base64 and base64url at every
 *     alignment and as Latin-1 text of the raw bytes;
 *   - the daemon's whole private writable memory (/proc/<pid>/mem: the V8
 *     heap, the Buffer backing stores, the C heap where OpenSSL works, the
 *     stacks), for the raw bytes and for each of those encodings as one-byte
 *     and two-byte (UTF-16) strings.
 * While the keys are cached the same search must find them: the positive
 * control that shows the search can fail. docs/threat-model.md ("Key
 * memory") says what this does and does not prove.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromBase64Url, openCiphertext } from '../../src/crypto/index.js';
import { LOCAL_KEK_FILE, loadOrCreateLocalKek } from '../../src/kms/index.js';
import { decodeCiphertext } from '../../src/service/ciphertext-string.js';
import { freshDataDir, startTestDaemon } from '../support/daemon.js';
import { post } from '../support/http.js';
import { type KeyMaterial, keyMaterial, needlesOf, type Secret } from '../support/secrets.js';
import { heapSnapshotStrings, type Needle, scanProcessMemory } from './process-memory.js';

const FIELD = 'email';
let dataDir: string;
let snapshots: string;
let ork: string;
let keys: KeyMaterial;
let kek: Buffer;
let child: ChildProcess;
let url: string;
const tokens: string[] = [];

function request<T extends object>(message: object): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: T & { error?: string }) => {
      child.off('message', onMessage);
      if (m.error !== undefined) reject(new Error(m.error));
      else resolve(m);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}

/** The raw keys and their text forms as bytes: one-byte (Latin-1) and two-byte (UTF-16LE) strings. */
function memoryNeedles(secrets: readonly Secret[]): Needle[] {
  return needlesOf(secrets).flatMap((n) => [
    { name: n.name, bytes: Buffer.from(n.needle, 'latin1') },
    { name: `${n.name} (UTF-16)`, bytes: Buffer.from(n.needle, 'utf16le') },
  ]);
}

const rawKeys = (): Secret[] =>
  keys.secrets.filter((s) => ['TEK', 'ORK', `FDK of ${FIELD}`].includes(s.name));

/** What a search of the daemon finds now: in the heap snapshot's strings, and in its memory. */
async function search(label: string, secrets: readonly Secret[]) {
  const file = join(snapshots, `${label}.heapsnapshot`);
  const memory = scanProcessMemory(child.pid as number, memoryNeedles(secrets));
  await request({ cmd: 'snapshot', file });
  const strings = heapSnapshotStrings(file);
  const text = needlesOf(secrets);
  const inSnapshot = [
    ...new Set(text.filter((n) => strings.some((s) => s.includes(n.needle))).map((n) => n.name)),
  ];
  return { strings, inSnapshot, memory };
}

before(async () => {
  dataDir = await freshDataDir();
  snapshots = mkdtempSync(join(tmpdir(), 'sidekey-heap-'));
  // First start (in this process): creates the demo tenant and its ORK; the keys are read here, then it stops.
  const first = await startTestDaemon({}, { dataDir });
  ork = first.ork;
  keys = await keyMaterial(dataDir, first.daemon.store, ork, FIELD);
  kek = loadOrCreateLocalKek(join(dataDir, LOCAL_KEK_FILE)).key;
  await first.stop();

  child = fork(join(import.meta.dirname, 'daemon-child.ts'), [dataDir], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  url = (
    await new Promise<{ url: string }>((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`the daemon process exited (${code})`)));
    })
  ).url;

  const values = ['alice@example.com', 'bob@example.com'];
  const t = await post(url, '/v1/tokenize', ork, { tenant: 'demo', field: FIELD, values });
  assert.equal(t.status, 200, t.text);
  tokens.push(...t.body.tokens);
  const r = await post(url, '/v1/detokenize', ork, { tenant: 'demo', tokens });
  assert.deepEqual(
    r.body.results.map((x: { value: string }) => x.value),
    values,
  );
  const e = await post(url, '/v1/encrypt', ork, {
    tenant: 'demo',
    field: FIELD,
    plaintexts: ['x'],
    context: 'c',
  });
  assert.equal(e.status, 200, e.text);
  const dc = await post(url, '/v1/decrypt', ork, {
    tenant: 'demo',
    field: FIELD,
    ciphertexts: e.body.ciphertexts,
    context: 'c',
  });
  assert.equal(dc.body.results[0].plaintext, 'x');

  // The needles are the keys the daemon used: our FDK opens its ciphertext.
  const ct = decodeCiphertext(e.body.ciphertexts[0]);
  assert.ok(ct !== undefined);
  const orkId = ct.header.orkIdBytes.toString('hex');
  const opened = openCiphertext(
    keys.fdk,
    { tenant: 'demo', field: FIELD, tekVersion: ct.header.tekVersion, orkId, context: 'c' },
    ct.bytes,
  );
  assert.equal(opened?.toString(), 'x', 'the TEK/ORK/FDK computed here are the daemon’s');
  assert.ok(fromBase64Url(ork.slice('sk_ork_'.length)) !== undefined);
});

after(async () => {
  if (child !== undefined && child.exitCode === null) {
    child.send({ cmd: 'exit' });
    await new Promise((r) => child.once('exit', r));
  }
  for (const k of [keys?.tek, keys?.ork, keys?.fdk, kek]) k?.fill(0);
  rmSync(snapshots, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

describe('key memory', () => {
  it('the search finds the keys while they are cached (positive control)', async () => {
    const found = await search('cached', rawKeys());
    assert.ok(found.memory.scanned > 16 * 2 ** 20, `only ${found.memory.scanned} bytes of memory were read`);
    assert.ok(
      found.strings.some((s) => s.includes(tokens[0] as string)),
      'the snapshot holds the tokens (strings are searched)',
    );
    const names = found.memory.hits.map((h) => h.name);
    for (const name of ['TEK', 'ORK', `FDK of ${FIELD}`])
      assert.ok(
        names.some((n) => n.startsWith(`${name} `)),
        `${name} not found while cached: ${JSON.stringify(found.memory.hits)}`,
      );
    const kekFound = scanProcessMemory(child.pid as number, [{ name: 'KEK', bytes: kek }]);
    assert.equal(kekFound.hits.length, 1, 'the local KEK is in memory while the daemon serves');
  });

  it('after the caches evicted them, no TEK, ORK or FDK is left in any form', async () => {
    await request({ cmd: 'evict' });
    const found = await search('evicted', rawKeys());
    assert.deepEqual(found.inSnapshot, [], 'key material in the heap snapshot');
    assert.deepEqual(found.memory.hits, [], 'key material in the daemon’s memory');
  });

  it('after the graceful shutdown path, neither those keys nor the local KEK are left', async () => {
    await request({ cmd: 'close' });
    const secrets: Secret[] = [...rawKeys(), { name: 'local KEK', bytes: kek }];
    const found = await search('closed', secrets);
    assert.deepEqual(found.inSnapshot, [], 'key material in the heap snapshot');
    assert.deepEqual(found.memory.hits, [], 'key material in the daemon’s memory');
  });
});
