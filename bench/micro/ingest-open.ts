/**
 * Micro-benchmark (issue 14): opening one sealed value, per suite, the way
 * a sealed tokenize does (src/ingest: parse the sealed string, the
 * library key made once per batch, HPKE single-shot open, strict UTF-8
 * decode, zeroing) against the floor of the library itself (`suite.open`
 * with a ready key on the same enc and ciphertext), in one process and one
 * run, alternating, so the ratio holds on a loaded machine.
 *
 *   node --import tsx bench/micro/ingest-open.ts [values-per-round]
 */
import { loadavg } from 'node:os';
import {
  cipherSuite,
  ingestInfo,
  keyPairFromSeed,
  newKeyId,
  openingKey,
  openSealed,
  parseSealed,
  SUITE_NAMES,
  SUITES,
} from '../../src/ingest/suites.js';
import { sealWith } from '../../test/support/seal.js';

const n = Number(process.argv[2] ?? 200);
const info = ingestInfo('acme', 'card');
const decoder = new TextDecoder('utf-8', { fatal: true });

async function timeIt(fn: () => Promise<void>): Promise<number> {
  const t0 = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}

const rows: Record<string, unknown>[] = [];
for (const suite of SUITE_NAMES) {
  const pair = await keyPairFromSeed(suite, new Uint8Array(32).fill(7));
  const keyId = newKeyId(suite, new Uint8Array(16).fill(1));
  const key = {
    keyId,
    kem: SUITES[suite].kem,
    kdf: 'HKDF-SHA256',
    aead: 'AES-256-GCM',
    publicKey: pair.publicKey.toString('base64url'),
  };
  const sealed = await sealWith(
    key,
    'acme',
    'card',
    Array.from({ length: 20 }, (_, i) => `4111 1111 1111 ${1000 + i}`),
  );
  const parsed = sealed.map((s) => parseSealed(s, 65536)!);
  const lib = await cipherSuite(suite);
  const readyKey = await lib.kem.deserializePrivateKey(new Uint8Array(pair.privateKey));
  const libInputs = parsed.map((p) => ({ enc: new Uint8Array(p.enc), ct: new Uint8Array(p.ciphertext) }));
  const floor = async () => {
    for (let i = 0; i < n; i++) {
      const x = libInputs[i % libInputs.length]!;
      await lib.open({ recipientKey: readyKey, enc: x.enc, info }, x.ct);
    }
  };
  const sidekey = async () => {
    const key = await openingKey(suite, pair.privateKey); // once per request batch, as open-sealed.ts does
    for (let i = 0; i < n; i++) {
      const parts = parseSealed(sealed[i % sealed.length]!, 65536)!;
      const pt = (await openSealed(key, parts, info))!;
      decoder.decode(pt);
      pt.fill(0);
    }
  };
  await floor(); // warm-up
  await sidekey();
  const floors: number[] = [];
  const ours: number[] = [];
  for (let round = 0; round < 5; round++) {
    floors.push(await timeIt(floor));
    ours.push(await timeIt(sidekey));
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[2]!;
  const f = median(floors);
  const o = median(ours);
  rows.push({
    suite,
    libraryFloorUsPerValue: Math.round(f),
    sidekeyUsPerValue: Math.round(o),
    ratio: +(o / f).toFixed(2),
  });
  console.log(
    `${suite.padEnd(7)} open per value: sidekey ${o.toFixed(0)} µs, library floor ${f.toFixed(0)} µs, ratio ${(o / f).toFixed(2)}`,
  );
}
console.log(JSON.stringify({ valuesPerRound: n, loadAverage: loadavg().map((x) => +x.toFixed(2)), rows }));
