import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PooledRandom, type RandomSource } from '../crypto/index.js';
import { LOCAL_WRAP_FORMAT, LocalKek, loadOrCreateLocalKek, localKekRef } from './local.js';
import { KmsError, kmsContext } from './port.js';

/** Bytes start, start+1, … (mod 256). */
function counterRandom(start: number): RandomSource {
  let next = start;
  return {
    bytes(n) {
      const out = Buffer.alloc(n);
      for (let i = 0; i < n; i++) out[i] = (next + i) & 0xff;
      next += n;
      return out;
    },
  };
}
const seq = (start: number, n: number) => counterRandom(start).bytes(n);

const isIntegrity = (err: unknown) => err instanceof KmsError && err.kind === 'integrity';

describe('local KEK file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidekey-kek-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('is created 0600 with a header and a 32-byte key, and reloaded unchanged', () => {
    const path = join(dir, 'kek.key');
    const first = loadOrCreateLocalKek(path);
    assert.equal(first.created, true);
    assert.equal(first.key.length, 32);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(readFileSync(path, 'utf8'), `sidekey-local-kek-v1 ${first.key.toString('base64')}\n`);
    const second = loadOrCreateLocalKek(path);
    assert.equal(second.created, false);
    assert.deepEqual(second.key, first.key);
  });

  it('refuses a file that group or others may access', () => {
    const path = join(dir, 'shared.key');
    loadOrCreateLocalKek(path);
    for (const mode of [0o640, 0o604, 0o644, 0o660, 0o620, 0o602, 0o610, 0o601]) {
      chmodSync(path, mode);
      assert.throws(() => loadOrCreateLocalKek(path), /readable by others/, mode.toString(8));
    }
    chmodSync(path, 0o400);
    assert.equal(loadOrCreateLocalKek(path).created, false);
  });

  it('refuses a file that is not a sidekey key file or holds a key of the wrong size', () => {
    const notOurs = join(dir, 'other.key');
    writeFileSync(notOurs, `${Buffer.alloc(32).toString('base64')}\n`, { mode: 0o600 });
    assert.throws(() => loadOrCreateLocalKek(notOurs), /not a sidekey key file/);
    const short = join(dir, 'short.key');
    writeFileSync(short, `sidekey-local-kek-v1 ${Buffer.alloc(16).toString('base64')}\n`, { mode: 0o600 });
    assert.throws(() => loadOrCreateLocalKek(short), /32-byte/);
  });
});

describe('local KEK wrap', () => {
  const KEK = seq(0x40, 32);
  const tek = seq(0x00, 32);
  const ork = seq(0x20, 32);
  const orkId = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';

  it('pinned: kek_ref and wrap format (docs/formats.md §4, §13)', async () => {
    assert.equal(LOCAL_WRAP_FORMAT, 0x01);
    assert.equal(localKekRef(KEK), 'local:bf04ac13e1efc460');
    const kek = new LocalKek(Buffer.from(KEK), counterRandom(0xc0));
    assert.equal(kek.kekRef, 'local:bf04ac13e1efc460');
    const wrappedTek = await kek.wrap(tek, kmsContext.tek('acme', 1));
    assert.equal(
      wrappedTek.toString('hex'),
      '01' +
        'c0c1c2c3c4c5c6c7c8c9cacb' +
        '5f4532cd7e9f3bec7cb02e3da7aeacc28fe44c42ca3b381fe4aa297734676459' +
        '5efb55f896ff9c8b1c641b75754d17c1',
    );
    const kek2 = new LocalKek(Buffer.from(KEK), counterRandom(0xd0));
    const wrappedOrk = await kek2.wrap(ork, kmsContext.ork('acme', orkId));
    assert.equal(
      wrappedOrk.toString('hex'),
      '01' +
        'd0d1d2d3d4d5d6d7d8d9dadb' +
        'ffedf4f4d272c374d96200a48c60cb559c90ee8570140cdce47bb877bb73f844' +
        '3b4ac7d7e0678c896e87866928fefd85',
    );
    assert.deepEqual(await kek.unwrap(wrappedTek, kmsContext.tek('acme', 1)), tek);
    assert.deepEqual(await kek.unwrap(wrappedOrk, kmsContext.ork('acme', orkId)), ork);
  });

  it('pinned: KMS contexts', () => {
    assert.deepEqual(kmsContext.tek('acme', 12), { purpose: 'tek', tenant: 'acme', version: '12' });
    assert.deepEqual(kmsContext.ork('acme', orkId), { purpose: 'ork', tenant: 'acme', ork_id: orkId });
    assert.deepEqual(kmsContext.auditChain('c1'), { purpose: 'audit', chain: 'c1' });
  });

  it('round-trips keys of any length under every context', async () => {
    const kek = new LocalKek(Buffer.from(KEK), new PooledRandom());
    for (const context of [
      kmsContext.tek('t', 1),
      kmsContext.ork('t', orkId),
      kmsContext.auditChain('c'),
      {},
    ]) {
      for (const key of [tek, Buffer.alloc(0), Buffer.alloc(100, 3)]) {
        const wrapped = await kek.wrap(key, context);
        assert.equal(wrapped.length, 1 + 12 + key.length + 16);
        assert.deepEqual(await kek.unwrap(wrapped, context), key);
      }
    }
  });

  it('wrong context, tampered bytes or another KEK fail with kind "integrity"', async () => {
    const kek = new LocalKek(Buffer.from(KEK), new PooledRandom());
    const context = kmsContext.tek('acme', 1);
    const wrapped = await kek.wrap(tek, context);
    for (const other of [
      kmsContext.tek('acme', 2),
      kmsContext.tek('acmf', 1),
      kmsContext.ork('acme', orkId),
      { ...context, extra: '' },
      {},
    ]) {
      await assert.rejects(kek.unwrap(wrapped, other), isIntegrity, JSON.stringify(other));
    }
    for (let i = 0; i < wrapped.length; i++) {
      const bad = Buffer.from(wrapped);
      bad[i]! ^= 0x01;
      await assert.rejects(kek.unwrap(bad, context), isIntegrity, `byte ${i}`);
    }
    for (let k = 0; k < wrapped.length; k++) {
      await assert.rejects(kek.unwrap(wrapped.subarray(0, k), context), isIntegrity, `first ${k} bytes`);
    }
    await assert.rejects(kek.unwrap(Buffer.concat([wrapped, Buffer.from([0])]), context), isIntegrity);
    const otherKek = new LocalKek(seq(0x41, 32), new PooledRandom());
    await assert.rejects(otherKek.unwrap(wrapped, context), isIntegrity);
  });

  it('unwraps from a subarray view', async () => {
    const kek = new LocalKek(Buffer.from(KEK), new PooledRandom());
    const wrapped = await kek.wrap(tek, {});
    const padded = Buffer.concat([Buffer.from([9, 9, 9]), wrapped, Buffer.from([9])]);
    assert.deepEqual(await kek.unwrap(padded.subarray(3, 3 + wrapped.length), {}), tek);
  });

  it('a closed KEK is zeroed and refuses work as unavailable', async () => {
    const key = Buffer.from(KEK);
    const kek = new LocalKek(key, new PooledRandom());
    const wrapped = await kek.wrap(tek, {});
    await kek.close();
    assert.ok(key.every((b) => b === 0));
    assert.deepEqual(await kek.health(), { ok: false, reason: 'local KEK closed' });
    await assert.rejects(
      kek.unwrap(wrapped, {}),
      (e: unknown) => e instanceof KmsError && e.kind === 'unavailable',
    );
    await assert.rejects(
      kek.wrap(tek, {}),
      (e: unknown) => e instanceof KmsError && e.kind === 'unavailable',
    );
  });

  it('refuses a KEK that is not 32 bytes', () => {
    assert.throws(() => new LocalKek(Buffer.alloc(16), new PooledRandom()), RangeError);
  });
});
