/**
 * Micro-benchmark: sealing one short value per record, three ways in one run:
 * - "before": the code path before RecordSealer (sealRecord per value, AAD
 *   and key info concatenated per record);
 * - "sealRecord": today's single seal (its own salt and subkey per value);
 * - "RecordSealer": tokenize's batch path (the shared AAD tail once, and one
 *   subkey per 1,024 records, ADR-21).
 * `node --import tsx bench/micro/seal.ts`
 */
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';
import {
  lengthPrefixed,
  newToken,
  PooledRandom,
  RecordSealer,
  sealRecord,
  u32be,
} from '../../src/crypto/index.js';

const random = new PooledRandom();
const fdk = randomBytes(32);
const binding = { tenant: 'acme', field: 'email', tekVersion: 1, orkId: 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf' };
const value = Buffer.from('alice@example.com');
const tokens = Array.from({ length: 1000 }, () => newToken(random));

/** The pre-change code path, verbatim in substance. */
function sealBefore(token: string): Buffer {
  const aad = Buffer.concat([
    Buffer.from([1]),
    lengthPrefixed('sidekey/aad/token/v1'),
    lengthPrefixed(token),
    lengthPrefixed(binding.tenant),
    lengthPrefixed(binding.field),
    u32be(binding.tekVersion),
    lengthPrefixed(binding.orkId),
  ]);
  const salt = random.bytes(16);
  const nonce = random.bytes(12);
  const key = createHmac('sha256', fdk)
    .update(Buffer.concat([lengthPrefixed('sidekey/record/v1'), salt]))
    .update(Buffer.from([1]))
    .digest();
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  const first = c.update(value);
  const last = c.final();
  const ct = last.length === 0 ? first : Buffer.concat([first, last]);
  const out = Buffer.concat([Buffer.from([1]), salt, nonce, ct, c.getAuthTag()]);
  key.fill(0);
  return out;
}

const sealer = new RecordSealer(fdk, binding, random);
function measure(name: string, fn: (t: string) => Buffer): number {
  for (let i = 0; i < 20_000; i++) fn(tokens[i % 1000]!);
  const n = 200_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) fn(tokens[i % 1000]!);
  const us = Number(process.hrtime.bigint() - t0) / 1000 / n;
  console.log(`${name.padEnd(28)} ${us.toFixed(2)} µs/value`);
  return us;
}
for (let round = 0; round < 2; round++) {
  measure('before: sealRecord/value', sealBefore);
  measure('sealRecord (own subkey)', (t) => sealRecord(fdk, { ...binding, token: t }, value, random));
  measure('RecordSealer.seal', (t) => sealer.seal(t, value));
}
