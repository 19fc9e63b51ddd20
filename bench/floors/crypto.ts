/**
 * Floor: in-process cryptographic operations per second on one core, the
 * building blocks of every tokenize/detokenize — and sidekey's own
 * per-record seal and open (src/crypto) for comparison. Each operation runs
 * in a tight loop for a fixed time after a short warm-up. A separate
 * process; prints one `{"event":"result","ops":[...]}` line.
 *
 *   node --import tsx bench/floors/crypto.ts <milliseconds per operation>
 */
import {
  createCipheriv,
  createHmac,
  createSecretKey,
  hkdfSync,
  type KeyObject,
  randomBytes,
  randomFillSync,
} from 'node:crypto';
import { newToken, openRecord, PooledRandom, sealRecord } from '../../src/crypto/index.js';
import { emit } from '../lib/protocol.js';

export interface CryptoOp {
  readonly name: string;
  readonly opsPerSecond: number;
  readonly microsPerOp: number;
}

const budgetMs = Number(process.argv[2] ?? 500);
const value32 = Buffer.from('alice.wonderland@example.com.xyz', 'utf8'); // 32 bytes
const key = randomBytes(32);
const keyObject: KeyObject = createSecretKey(key);
const salt = randomBytes(16);
const info = Buffer.from('sidekey/fdk/v1\u0000tenant-a\u0000email\u0000\u0000\u0000\u0001');
const aad = randomBytes(96);
const pooled = new PooledRandom();
let sink = 0;

function measure(name: string, fn: () => void): CryptoOp {
  const warm = performance.now() + Math.min(100, budgetMs / 5);
  while (performance.now() < warm) fn();
  let n = 0;
  const start = performance.now();
  const end = start + budgetMs;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 256; i++) fn();
    n += 256;
    now = performance.now();
  }
  const seconds = (now - start) / 1000;
  return { name, opsPerSecond: Math.round(n / seconds), microsPerOp: (seconds * 1e6) / n };
}

function gcm(k: Buffer | KeyObject, nonce: Buffer): void {
  const c = createCipheriv('aes-256-gcm', k, nonce);
  c.setAAD(aad);
  const a = c.update(value32);
  const b = c.final();
  sink ^= a[0]! ^ b.length ^ c.getAuthTag()[0]!;
}

const binding = {
  token: newToken(pooled),
  tenant: 'tenant-a',
  field: 'email',
  tekVersion: 1,
  orkId: '0123456789abcdef0123456789abcdef',
};
const sealed = sealRecord(key, binding, value32, pooled);

const ops: CryptoOp[] = [
  measure('HKDF-SHA256 extract+expand (32-byte key)', () => {
    sink ^= new Uint8Array(hkdfSync('sha256', key, salt, info, 32))[0]!;
  }),
  measure('HMAC-SHA256 (HKDF-Expand, one block)', () => {
    sink ^= createHmac('sha256', key).update(info).update(salt).digest()[0]!;
  }),
  measure('AES-256-GCM seal 32 B, cached Buffer key, pooled nonce', () => gcm(key, pooled.bytes(12))),
  measure('AES-256-GCM seal 32 B, cached KeyObject, pooled nonce', () => gcm(keyObject, pooled.bytes(12))),
  measure('AES-256-GCM seal 32 B, cached key, randomBytes(12) nonce', () => gcm(key, randomBytes(12))),
  measure('randomBytes(12)', () => {
    sink ^= randomBytes(12)[0]!;
  }),
  measure('randomFillSync(Buffer.allocUnsafe(12))', () => {
    sink ^= randomFillSync(Buffer.allocUnsafe(12))[0]!;
  }),
  measure('pooled random 12 B (sidekey PooledRandom)', () => {
    sink ^= pooled.bytes(12)[0]!;
  }),
  measure('sidekey newToken', () => {
    sink ^= newToken(pooled).length;
  }),
  measure('sidekey sealRecord 32 B (subkey + AAD + GCM)', () => {
    sink ^= sealRecord(key, binding, value32, pooled)[0]!;
  }),
  measure('sidekey openRecord 32 B', () => {
    sink ^= openRecord(key, binding, sealed)![0]!;
  }),
];
emit({ event: 'result', ops, sink: sink & 1 });
