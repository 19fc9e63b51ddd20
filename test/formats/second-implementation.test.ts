/**
 * The disaster-recovery guarantee, proved: a second, independent decryptor
 * written only from docs/formats.md (node:crypto directly; nothing from
 * src/crypto or src/kms) recovers every plaintext from the database, the KEK
 * file and the ORK string alone.
 *
 * sidekey itself is used only to *produce* the data: a daemon on an embedded
 * store in a temp dir bootstraps tenant `demo`, tokenizes and encrypts through
 * its service, and is shut down. Then this file opens the PGlite directory
 * directly and decrypts.
 */
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, createHmac, hkdfSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { startDaemon } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';

// ---------------------------------------------------------------------------
// The independent implementation (docs/formats.md §1–§9, §14).
// ---------------------------------------------------------------------------

/** §1: u16be(len) ‖ bytes, strings as UTF-8. */
function lp(data: string | Buffer): Buffer {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  if (bytes.length > 0xffff) throw new Error('lp: too long');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(bytes.length);
  return Buffer.concat([len, bytes]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** §1: strict unpadded base64url. */
function b64url(text: string): Buffer {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) throw new Error('base64url: malformed');
  const bytes = Buffer.from(text, 'base64url');
  if (bytes.toString('base64url') !== text) throw new Error('base64url: not canonical');
  return bytes;
}

/** §1: u16be(count) ‖ lp(key) ‖ lp(value) for keys in ascending order. */
function canonical(ctx: Record<string, string>): Buffer {
  const keys = Object.keys(ctx).sort();
  const count = Buffer.alloc(2);
  count.writeUInt16BE(keys.length);
  return Buffer.concat([count, ...keys.flatMap((k) => [lp(k), lp(ctx[k]!)])]);
}

function gcmOpen(key: Buffer, nonce: Buffer, ciphertext: Buffer, tag: Buffer, aad: Buffer): Buffer {
  const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
  d.setAAD(aad);
  d.setAuthTag(tag);
  return Buffer.concat([d.update(ciphertext), d.final()]); // throws when the tag does not verify
}

/** §4: the key file. */
function readKekFile(path: string): { kek: Buffer; kekRef: string } {
  const text = readFileSync(path, 'utf8').trim();
  const header = 'sidekey-local-kek-v1 ';
  assert.ok(text.startsWith(header));
  const kek = Buffer.from(text.slice(header.length), 'base64');
  assert.equal(kek.length, 32);
  const id = createHash('sha256').update(lp('sidekey/kek-id/v1')).update(kek).digest('hex');
  return { kek, kekRef: `local:${id.slice(0, 16)}` };
}

/** §4: 0x01 ‖ nonce(12) ‖ ciphertext ‖ tag(16), aad = lp("sidekey/local-kek/v1") ‖ canonical(ctx). */
function localUnwrap(kek: Buffer, wrapped: Buffer, ctx: Record<string, string>): Buffer {
  assert.equal(wrapped[0], 0x01);
  assert.ok(wrapped.length >= 29);
  const aad = Buffer.concat([lp('sidekey/local-kek/v1'), canonical(ctx)]);
  return gcmOpen(kek, wrapped.subarray(1, 13), wrapped.subarray(13, -16), wrapped.subarray(-16), aad);
}

/** §5: "sk_ork_" ‖ base64url(0x01 ‖ u8 len ‖ tenant ‖ orkId(16) ‖ u8 len ‖ kekRef ‖ u16be len ‖ wrapped). */
/** §1: strict UTF-8, a leading U+FEFF kept. */
function strictUtf8(bytes: Buffer): string {
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
}

function parseOrkString(text: string): { tenant: string; orkId: string; kekRef: string; wrapped: Buffer } {
  assert.ok(text.startsWith('sk_ork_'));
  const p = b64url(text.slice('sk_ork_'.length));
  let at = 0;
  const take = (n: number) => {
    if (at + n > p.length) throw new Error('ORK string: truncated');
    const out = p.subarray(at, at + n);
    at += n;
    return out;
  };
  assert.equal(take(1)[0], 0x01);
  const tenant = strictUtf8(take(take(1)[0]!));
  const orkId = take(16).toString('hex');
  const kekRef = strictUtf8(take(take(1)[0]!));
  const wrapped = Buffer.from(take(take(2).readUInt16BE(0)));
  assert.equal(at, p.length, 'ORK string: trailing bytes');
  assert.ok(wrapped.length > 0);
  return { tenant, orkId, kekRef, wrapped };
}

/** §5 fingerprint. */
function fingerprint(ork: Buffer): string {
  return createHash('sha256').update(lp('sidekey/ork-fingerprint/v1')).update(ork).digest('hex').slice(0, 32);
}

/** §6: HKDF-SHA256(IKM = TEK, salt = ORK, info = lp(label) ‖ lp(tenant) ‖ lp(field) ‖ lp(u32be(v)), 32). */
function fdk(tek: Buffer, ork: Buffer, tenant: string, field: string, version: number): Buffer {
  const info = Buffer.concat([lp('sidekey/fdk/v1'), lp(tenant), lp(field), lp(u32(version))]);
  return Buffer.from(hkdfSync('sha256', tek, ork, info, 32));
}

/** §7: HMAC-SHA256(FDK, lp("sidekey/record/v1") ‖ salt ‖ 0x01). */
function recordKey(fdkBytes: Buffer, salt: Buffer): Buffer {
  return createHmac('sha256', fdkBytes)
    .update(Buffer.concat([lp('sidekey/record/v1'), salt, Buffer.from([1])]))
    .digest();
}

interface TokenRowDb {
  token: string;
  tenant: string;
  field: string;
  ork_id: string;
  tek_version: number;
  envelope: Uint8Array;
}

/** §8: 0x01 ‖ salt(16) ‖ nonce(12) ‖ ciphertext ‖ tag(16) with the record AAD. */
function openRecordRow(fdkBytes: Buffer, row: TokenRowDb): string {
  const env = Buffer.from(row.envelope);
  assert.equal(env[0], 0x01);
  assert.ok(env.length >= 45);
  const aad = Buffer.concat([
    Buffer.from([0x01]),
    lp('sidekey/aad/token/v1'),
    lp(row.token),
    lp(row.tenant),
    lp(row.field),
    u32(row.tek_version),
    lp(row.ork_id),
  ]);
  const key = recordKey(fdkBytes, env.subarray(1, 17));
  const plain = gcmOpen(key, env.subarray(17, 29), env.subarray(29, -16), env.subarray(-16), aad);
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(plain);
}

/** §9: "ct_" ‖ base64url(0x02 ‖ u32be(v) ‖ orkId(16) ‖ salt(16) ‖ nonce(12) ‖ ciphertext ‖ tag(16)). */
function openCiphertextText(
  text: string,
  keys: { orkId: string; fdkFor: (field: string, version: number) => Buffer },
  tenant: string,
  field: string,
  context: string,
): string {
  assert.ok(text.startsWith('ct_'));
  const b = b64url(text.slice(3));
  assert.equal(b[0], 0x02);
  assert.ok(b.length >= 65);
  const version = b.readUInt32BE(1);
  const orkId = b.subarray(5, 21).toString('hex');
  assert.equal(orkId, keys.orkId, 'a ciphertext of another organisation');
  const aad = Buffer.concat([
    Buffer.from([0x02]),
    lp('sidekey/aad/ciphertext/v1'),
    lp(tenant),
    lp(field),
    u32(version),
    lp(orkId),
    lp(context),
  ]);
  const key = recordKey(keys.fdkFor(field, version), b.subarray(21, 37));
  const plain = gcmOpen(key, b.subarray(37, 49), b.subarray(49, -16), b.subarray(-16), aad);
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(plain);
}

// ---------------------------------------------------------------------------
// The data, produced by sidekey itself.
// ---------------------------------------------------------------------------

const EMAILS = [
  'alice@example.com',
  'bob@example.org',
  '',
  'ünïcödé 😀 ✓',
  'x'.repeat(1000),
  '\ufeffbom first',
];
const PHONES = ['+44 20 7946 0000', '+1-202-555-0143'];
const SECRETS = ['card 4111 1111 1111 1111', '', 'über', '\ufeff'];
/** §18: values of data subjects; `gone` is forgotten before the recovery. */
const SUBJECT_VALUES = { kept: ['Kept Person', 'kept@example.com'], gone: ['Gone Person'] } as const;

/** §18.1: FDK_s = HKDF-SHA256(ikm = K_subj, salt = FDK, info = lp(label) ‖ lp(tenant) ‖ lp(key_id), 32). */
function subjectFdk(subjectKey: Buffer, fdkBytes: Buffer, tenant: string, keyId: string): Buffer {
  const info = Buffer.concat([lp('sidekey/subject-fdk/v1'), lp(tenant), lp(keyId)]);
  return Buffer.from(hkdfSync('sha256', subjectKey, fdkBytes, info, 32));
}

/** §18.3: "ct_" ‖ base64url(0x03 ‖ u32be(v) ‖ orkId(16) ‖ keyId(16) ‖ salt ‖ nonce ‖ ciphertext ‖ tag). */
function openSubjectCiphertextText(
  text: string,
  keyFor: (version: number, keyId: string) => Buffer,
  tenant: string,
  field: string,
  context: string,
): string {
  const b = b64url(text.slice(3));
  assert.equal(b[0], 0x03);
  assert.ok(b.length >= 81);
  const version = b.readUInt32BE(1);
  const orkId = b.subarray(5, 21).toString('hex');
  const keyId = b.subarray(21, 37).toString('hex');
  const aad = Buffer.concat([
    Buffer.from([0x03]),
    lp('sidekey/aad/subject-ciphertext/v1'),
    lp(tenant),
    lp(field),
    u32(version),
    lp(orkId),
    lp(keyId),
    lp(context),
  ]);
  const key = recordKey(keyFor(version, keyId), b.subarray(37, 53));
  const plain = gcmOpen(key, b.subarray(53, 65), b.subarray(65, -16), b.subarray(-16), aad);
  return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(plain);
}

describe('a second implementation decrypts sidekey data from the docs alone (DR)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sidekey-dr-'));
  let orkString = '';
  const tokens = new Map<string, string>(); // token → plaintext
  const ciphertexts: { text: string; field: string; context: string; plaintext: string }[] = [];
  const subjectTokens = new Map<string, { subject: string; value: string }>();
  const subjectCiphertexts: { text: string; subject: string; plaintext: string }[] = [];

  before(async () => {
    const config = loadConfig(
      { SIDEKEY_DATA_DIR: dir, SIDEKEY_HTTP_PORT: '0', SIDEKEY_LOG_LEVEL: 'silent' },
      dir,
    );
    const daemon = await startDaemon(config, { note: () => {} });
    try {
      orkString = readFileSync(join(dir, 'demo.ork'), 'utf8').trim();
      const ctx = { orkString, requestId: 't', caller: 'http' as const };
      for (const [field, values] of [
        ['email', EMAILS],
        ['phone', PHONES],
      ] as const) {
        const { tokens: made } = await daemon.service.tokenize({ tenant: 'demo', field, values }, ctx);
        made.forEach((t, i) => {
          tokens.set(t, values[i]!);
        });
      }
      for (const context of ['', 'order:42']) {
        const { ciphertexts: made } = await daemon.service.encrypt(
          { tenant: 'demo', field: 'card', plaintexts: SECRETS, ...(context !== '' && { context }) },
          ctx,
        );
        made.forEach((text, i) => {
          ciphertexts.push({ text, field: 'card', context, plaintext: SECRETS[i]! });
        });
      }
      for (const [subject, values] of Object.entries(SUBJECT_VALUES)) {
        const { tokens: made } = await daemon.service.tokenize(
          { tenant: 'demo', field: 'name', values, subject },
          ctx,
        );
        made.forEach((t, i) => {
          subjectTokens.set(t, { subject, value: values[i]! });
        });
        const { ciphertexts: cts } = await daemon.service.encrypt(
          { tenant: 'demo', field: 'name', plaintexts: values, context: 'c', subject },
          ctx,
        );
        cts.forEach((text, i) => {
          subjectCiphertexts.push({ text, subject, plaintext: values[i]! });
        });
      }
      await daemon.service.forgetSubjects({ tenant: 'demo', subjects: ['gone'] }, ctx);
    } finally {
      await daemon.close();
    }
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('recovers every tokenized value and every ciphertext from pgdata + kek.key + the ORK string', async () => {
    // 1. The KEK.
    const { kek, kekRef } = readKekFile(join(dir, 'kek.key'));
    // 2. The ORK, from the ORK string.
    const parsed = parseOrkString(orkString);
    assert.equal(parsed.tenant, 'demo');
    assert.equal(parsed.kekRef, kekRef);
    const ork = localUnwrap(kek, parsed.wrapped, {
      purpose: 'ork',
      tenant: parsed.tenant,
      ork_id: parsed.orkId,
    });
    assert.equal(ork.length, 32);

    const db = new PGlite(join(dir, 'pgdata'));
    try {
      const orkRows = await db.query<{ fingerprint: string }>(
        'select fingerprint from sidekey_orks where tenant = $1 and ork_id = $2',
        [parsed.tenant, parsed.orkId],
      );
      assert.equal(orkRows.rows[0]?.fingerprint, fingerprint(ork));

      // 3. The TEKs.
      const tekRows = await db.query<{ version: number; kek_ref: string; wrapped_key: Uint8Array }>(
        'select version, kek_ref, wrapped_key from sidekey_tenant_keys where tenant = $1 and wrapped_key is not null',
        [parsed.tenant],
      );
      assert.ok(tekRows.rows.length >= 1);
      const teks = new Map<number, Buffer>();
      for (const r of tekRows.rows) {
        assert.equal(r.kek_ref, kekRef);
        const context = { purpose: 'tek', tenant: parsed.tenant, version: String(r.version) };
        teks.set(r.version, localUnwrap(kek, Buffer.from(r.wrapped_key), context));
      }
      const fdkFor = (field: string, version: number) => {
        const tek = teks.get(version);
        assert.ok(tek, `TEK version ${version}`);
        return fdk(tek, ork, parsed.tenant, field, version);
      };

      // 4. The records.
      const rows = await db.query<TokenRowDb>(
        'select token, tenant, field, ork_id, tek_version, envelope from sidekey_tokens where tenant = $1 and ork_id = $2 and subject_key_id is null',
        [parsed.tenant, parsed.orkId],
      );
      assert.equal(rows.rows.length, tokens.size);
      for (const row of rows.rows) {
        const expected = tokens.get(row.token);
        assert.notEqual(expected, undefined, `unexpected token ${row.token}`);
        assert.equal(openRecordRow(fdkFor(row.field, row.tek_version), row), expected);
      }

      // No plaintext anywhere in the envelopes (non-empty values only).
      for (const row of rows.rows) {
        for (const value of tokens.values()) {
          if (value.length >= 4) assert.equal(Buffer.from(row.envelope).indexOf(Buffer.from(value)), -1);
        }
      }

      // A row moved to another token fails: the AAD binds it.
      const [a, b] = rows.rows;
      assert.ok(a && b);
      assert.throws(() => openRecordRow(fdkFor(a.field, a.tek_version), { ...a, token: b.token }));

      // 5. The standalone ciphertexts (held by the application), with its field and context.
      assert.equal(ciphertexts.length, 2 * SECRETS.length);
      const keys = { orkId: parsed.orkId, fdkFor };
      for (const c of ciphertexts) {
        assert.equal(openCiphertextText(c.text, keys, 'demo', c.field, c.context), c.plaintext);
        const wrongContext = c.context === '' ? 'order:42' : '';
        assert.throws(() => openCiphertextText(c.text, keys, 'demo', c.field, wrongContext));
        assert.throws(() => openCiphertextText(c.text, keys, 'demo', 'email', c.context));
      }
    } finally {
      await db.close();
    }
  });

  it('recovers data subjects’ values with their keys (§18.5); a forgotten subject’s are gone', async () => {
    const { kek } = readKekFile(join(dir, 'kek.key'));
    const parsed = parseOrkString(orkString);
    const ork = localUnwrap(kek, parsed.wrapped, {
      purpose: 'ork',
      tenant: parsed.tenant,
      ork_id: parsed.orkId,
    });
    const db = new PGlite(join(dir, 'pgdata'));
    try {
      const tekRows = await db.query<{ version: number; wrapped_key: Uint8Array }>(
        'select version, wrapped_key from sidekey_tenant_keys where tenant = $1 and wrapped_key is not null',
        [parsed.tenant],
      );
      const teks = new Map(
        tekRows.rows.map((r) => [
          r.version,
          localUnwrap(kek, Buffer.from(r.wrapped_key), {
            purpose: 'tek',
            tenant: parsed.tenant,
            version: String(r.version),
          }),
        ]),
      );
      const subjectKey = async (keyId: string): Promise<Buffer | undefined> => {
        const r = await db.query<{ wrapped_key: Uint8Array }>(
          'select wrapped_key from sidekey_subject_keys where tenant = $1 and key_id = $2',
          [parsed.tenant, keyId],
        );
        const w = r.rows[0]?.wrapped_key;
        return w === undefined
          ? undefined
          : localUnwrap(kek, Buffer.from(w), { purpose: 'subject', tenant: parsed.tenant, key_id: keyId });
      };
      const keyFor = async (field: string, version: number, keyId: string) => {
        const k = await subjectKey(keyId);
        return k === undefined
          ? undefined
          : subjectFdk(k, fdk(teks.get(version)!, ork, parsed.tenant, field, version), parsed.tenant, keyId);
      };

      const rows = await db.query<TokenRowDb & { subject_key_id: string }>(
        'select token, tenant, field, ork_id, tek_version, envelope, subject_key_id from sidekey_tokens where tenant = $1 and subject_key_id is not null',
        [parsed.tenant],
      );
      assert.equal(rows.rows.length, subjectTokens.size);
      let recovered = 0;
      for (const row of rows.rows) {
        const expected = subjectTokens.get(row.token)!;
        const key = await keyFor(row.field, row.tek_version, row.subject_key_id);
        if (expected.subject === 'gone') {
          assert.equal(key, undefined, 'a forgotten subject has no key left');
          // Nor does the FDK alone open it.
          assert.throws(() =>
            openRecordRow(
              fdk(teks.get(row.tek_version)!, ork, parsed.tenant, row.field, row.tek_version),
              row,
            ),
          );
          continue;
        }
        assert.ok(key);
        assert.equal(openRecordRow(key, row), expected.value);
        recovered++;
      }
      assert.equal(recovered, SUBJECT_VALUES.kept.length);

      const keys = new Map<string, Buffer | undefined>();
      for (const c of subjectCiphertexts) {
        const b = b64url(c.text.slice(3));
        const version = b.readUInt32BE(1);
        const keyId = b.subarray(21, 37).toString('hex');
        if (!keys.has(keyId)) keys.set(keyId, await keyFor('name', version, keyId));
        const key = keys.get(keyId);
        if (c.subject === 'gone') {
          assert.equal(key, undefined);
          continue;
        }
        assert.equal(
          openSubjectCiphertextText(c.text, () => key!, 'demo', 'name', 'c'),
          c.plaintext,
        );
        assert.throws(() => openSubjectCiphertextText(c.text, () => key!, 'demo', 'name', 'other'));
      }
    } finally {
      await db.close();
    }
  });
});
