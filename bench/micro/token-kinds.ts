/**
 * Micro-benchmark: what each token kind adds per value to tokenize's CPU
 * work (mint + seal), measured side by side in one process, interleaved so
 * that machine load hits every kind alike; also the FF1 call alone (the
 * library's in-process floor). `node --import tsx bench/micro/token-kinds.ts`
 */
import { randomBytes } from 'node:crypto';
import { FF1 } from '@noble/ciphers/ff1.js';
import { PooledRandom, RecordSealer } from '../../src/crypto/index.js';
import { MINTERS, type Minter } from '../../src/tokens/index.js';

const random = new PooledRandom();
const fdk = randomBytes(32);
const tokenKey = randomBytes(32);
const sealer = new RecordSealer(
  fdk,
  { tenant: 'acme', field: 'f', tekVersion: 1, orkId: 'a0'.repeat(16) },
  random,
);
const emails = Array.from({ length: 1000 }, (_, i) => `user${i}.name@example.com`);
const cards = Array.from({ length: 1000 }, (_, i) => `4111-1111-${String(1000 + i).slice(-4)}-1111`);
const ctx = { tenant: 'acme', field: 'f', random, tokenKey: async () => Buffer.from(tokenKey) };
const minters: Record<string, Minter> = {
  random: await MINTERS.random(ctx),
  deterministic: await MINTERS.deterministic(ctx),
  fpe: await MINTERS.fpe({ ...ctx, format: { alphabet: 'digits', keepPrefix: 6, keepSuffix: 4 } }),
};
const ff1 = FF1(10, tokenKey, Buffer.from('tweak'));
const six = [1, 2, 3, 4, 5, 6];

function perValue(fn: (i: number) => void, n: number): number {
  for (let i = 0; i < n / 10; i++) fn(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(i);
  return Number(process.hrtime.bigint() - t0) / 1000 / n;
}
const results = new Map<string, number[]>();
const record = (name: string, us: number) => results.set(name, [...(results.get(name) ?? []), us]);
for (let round = 0; round < 3; round++) {
  for (const [kind, m] of Object.entries(minters)) {
    const values = kind === 'fpe' ? cards : emails;
    const us = perValue(
      (i) => {
        const v = values[i % 1000]!;
        const { recordKey } = m.mint(v, 0);
        sealer.seal(recordKey, Buffer.from(v));
      },
      kind === 'fpe' ? 20_000 : 100_000,
    );
    record(kind, us);
  }
  record(
    'FF1 alone (6 digits, one instance)',
    perValue(() => ff1.encrypt(six), 20_000),
  );
}
for (const [name, samples] of results) {
  const best = Math.min(...samples);
  console.log(`${name.padEnd(38)} ${best.toFixed(2)} µs/value (best of ${samples.length})`);
}
