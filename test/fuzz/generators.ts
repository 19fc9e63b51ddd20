/**
 * Generators of near-valid sidekey inputs, built from real valid ones (an
 * issued ORK string, tokens and ciphertexts the daemon returned, a sealed
 * envelope, the fixture AdmissionReview, a working configuration). One place
 * for the fixed-budget fuzz tests under test/fuzz and `npm run fuzz`.
 *
 * Every value these generators put into a request starts with SECRET_MARK,
 * so a property can find a value that leaked into an error or a log line
 * whatever else it was mixed with.
 */
import fc from 'fast-check';
import { decodeOrkString, encodeOrkString, fromBase64Url, toBase64Url } from '../../src/crypto/index.js';
import { mixedArray, mutateBytes, mutateString, mutateStringDeep, wrongType } from './mutations.js';

export const SECRET_MARK = 'fz-secret-';

/** A value to protect: always marked, then any well-formed Unicode (astral, controls, NUL). */
export const secretValue = fc.string({ unit: 'binary', maxLength: 24 }).map((s) => `${SECRET_MARK}${s}`);

const isString = (v: unknown) => typeof v === 'string';
const isStringArray = (v: unknown) => Array.isArray(v) && v.every(isString);

/** ORK strings near a valid one: text edits, payload byte edits, and re-encoded structural edits. */
export function orkStrings(valid: string): fc.Arbitrary<string> {
  const prefix = 'sk_ork_';
  const payload = fromBase64Url(valid.slice(prefix.length)) ?? Buffer.alloc(0);
  const parts = decodeOrkString(valid);
  const structural: fc.Arbitrary<string>[] =
    parts === undefined
      ? []
      : [
          fc.constantFrom('demo', 'other', 'x'.repeat(255), 'dém0').map((tenant) => {
            try {
              return encodeOrkString({ ...parts, tenant });
            } catch {
              return valid;
            }
          }),
          fc
            .string({ unit: fc.constantFrom(...'0123456789abcdef'.split('')), minLength: 32, maxLength: 32 })
            .map((orkId) => encodeOrkString({ ...parts, orkId })),
          fc
            .constantFrom('local:0', 'aws:alias/x', 'vault:k', 'x')
            .map((kekRef) => encodeOrkString({ ...parts, kekRef })),
          mutateBytes(parts.wrapped)
            .filter((w) => w.length > 0 && w.length <= 0xffff)
            .map((wrapped) => encodeOrkString({ ...parts, wrapped })),
        ];
  return fc.oneof(
    mutateStringDeep(valid),
    mutateBytes(payload).map((p) => prefix + toBase64Url(p)),
    mutateBytes(payload).map((p) => prefix + p.toString('base64')),
    ...structural,
    fc.constantFrom('', prefix, 'sk_ork', `Bearer ${valid}`, valid.replace(prefix, 'sk_orK_')),
  );
}

/** Token strings near valid ones: edits, well-formed unknown tokens, and other kinds of string. */
export function tokenStrings(valid: readonly string[], other: readonly string[] = []): fc.Arbitrary<string> {
  const base = fc.constantFrom(...valid);
  return fc.oneof(
    base,
    base.chain(mutateString),
    fc
      .string({ unit: fc.constantFrom(...'ABCxyz019-_'.split('')), minLength: 22, maxLength: 22 })
      .map((s) => `tok_${s}`),
    ...(other.length > 0 ? [fc.constantFrom(...other)] : []),
    secretValue,
  );
}

/** `ct_` strings near valid ones: text edits, envelope byte edits, and rewritten headers. */
export function ciphertextStrings(valid: readonly string[]): fc.Arbitrary<string> {
  const base = fc.constantFrom(...valid);
  const bytesOf = (ct: string) => fromBase64Url(ct.slice(3)) ?? Buffer.alloc(0);
  return fc.oneof(
    base,
    base.chain(mutateString),
    base.chain((ct) => mutateBytes(bytesOf(ct)).map((b) => `ct_${toBase64Url(b)}`)),
    fc.tuple(base, fc.constantFrom(0, 1, 2, 3, 0x7fffffff, 0xffffffff)).map(([ct, version]) => {
      const b = Buffer.from(bytesOf(ct));
      if (b.length >= 5) b.writeUInt32BE(version, 1);
      return `ct_${toBase64Url(b)}`;
    }),
    fc.tuple(base, fc.uint8Array({ minLength: 16, maxLength: 16 })).map(([ct, id]) => {
      const b = Buffer.from(bytesOf(ct));
      if (b.length >= 21) Buffer.from(id).copy(b, 5);
      return `ct_${toBase64Url(b)}`;
    }),
    secretValue,
  );
}

/** Stored envelopes near a valid one: byte edits and other format bytes. */
export function envelopes(valid: Buffer): fc.Arbitrary<Buffer> {
  return fc.oneof(
    mutateBytes(valid),
    fc.constantFrom(0x00, 0x02, 0x03, 0xff).map((f) => Buffer.concat([Buffer.from([f]), valid.subarray(1)])),
    fc.uint8Array({ maxLength: 80 }).map((b) => Buffer.from(b)),
  );
}

/** A near-valid string field: valid, edited, or a syntax edge (empty, too long, Unicode look-alikes). */
function nearString(valid: string, maxLen: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(valid) },
    { weight: 2, arbitrary: mutateString(valid) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '',
        'a'.repeat(maxLen + 1),
        `${valid}\u0000`,
        valid.replace(/e/g, 'е'),
        '../x',
      ),
    },
    { weight: 1, arbitrary: wrongType(isString) },
  );
}

/** A near-valid array of strings: valid, mixed with wrong types or bad strings, empty, or not an array. */
function nearArray(valid: fc.Arbitrary<string>): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.array(valid, { minLength: 1, maxLength: 6 }) },
    { weight: 3, arbitrary: mixedArray(valid, wrongType(isString)) },
    {
      weight: 1,
      arbitrary: mixedArray(valid, fc.constantFrom('\ud800', 'x\udc00y', 'a'.repeat(65_537))),
    },
    { weight: 1, arbitrary: fc.constant([]) },
    { weight: 1, arbitrary: wrongType(isStringArray) },
  );
}

export type Endpoint =
  | 'tokenize'
  | 'detokenize'
  | 'encrypt'
  | 'decrypt'
  | 'delete'
  // v1.1: data subjects (issue 13), end-to-end encrypted ingest (issue 14).
  | 'forget'
  | 'ingestKeys'
  | 'tokenizeSealed'
  | 'encryptSealed';
export const ENDPOINTS: readonly Endpoint[] = [
  'tokenize',
  'detokenize',
  'encrypt',
  'decrypt',
  'delete',
  'forget',
  'ingestKeys',
  'tokenizeSealed',
  'encryptSealed',
];

/**
 * Sealed strings (`hpke:<keyId>:<enc>:<ciphertext>`) near valid ones: each
 * part mutated, parts swapped between strings, bytes of the ciphertext
 * flipped (a tampered value must be refused like any other).
 */
export function sealedStrings(valid: readonly string[]): fc.Arbitrary<string> {
  const base = fc.constantFrom(...valid);
  const parts = (s: string) => s.split(':');
  return fc.oneof(
    base,
    base.chain(mutateString),
    fc.tuple(base, base).map(([a, b]) => {
      const [p, k, e] = parts(a);
      return [p, k, e, parts(b)[3]].join(':');
    }),
    fc.tuple(base, fc.nat({ max: 3 })).chain(([s, i]) =>
      mutateString(parts(s)[i] ?? '').map((m) => {
        const ps = parts(s);
        ps[i] = m;
        return ps.join(':');
      }),
    ),
    base.chain((s) => {
      const ps = parts(s);
      const ct = fromBase64Url(ps[3] ?? '') ?? Buffer.alloc(0);
      return mutateBytes(ct).map((b) => [...ps.slice(0, 3), toBase64Url(b)].join(':'));
    }),
    fc.constantFrom('hpke:', 'hpke:x:y:z', 'hpke::::', 'HPKE:a:b:c'),
    secretValue,
  );
}

/** A subject id near `user-42` (`^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$`). */
const subjects = fc.oneof(
  fc.constantFrom('user-42', 'user-43', 'a', `u${'x'.repeat(127)}`),
  fc.constant('user-42').chain(mutateString),
  fc.constantFrom('', '-lead', 'x'.repeat(129), 'user 42', 'usér'),
);

export interface BodyContext {
  readonly tenant: string;
  readonly field: string;
  readonly tokens: readonly string[];
  readonly ciphertexts: readonly string[];
  /** Valid sealed strings of marked values, for this tenant and field (every suite). */
  readonly sealed: readonly string[];
}

/** Each endpoint's own fields (API.md): name → near-valid generator; `?` optional. */
function fieldsOf(endpoint: Endpoint, c: BodyContext): Record<string, fc.Arbitrary<unknown>> {
  const tenant = nearString(c.tenant, 63);
  const field = nearString(c.field, 128);
  const tokens = nearArray(tokenStrings(c.tokens, c.ciphertexts));
  // Purpose and context are not values to protect: the audit records the purpose by design.
  const optional = fc.oneof(fc.string({ unit: 'binary', maxLength: 24 }), wrongType(isString));
  switch (endpoint) {
    case 'tokenize':
      return { tenant, field, values: nearArray(secretValue), 'subject?': subjects };
    case 'tokenizeSealed':
      return { tenant, field, sealedValues: nearArray(sealedStrings(c.sealed)), 'subject?': subjects };
    case 'encryptSealed':
      return { tenant, field, sealedPlaintexts: nearArray(sealedStrings(c.sealed)), 'subject?': subjects };
    case 'forget':
      return { tenant, subjects: nearArray(subjects) };
    case 'ingestKeys':
      return { tenant };
    case 'detokenize':
      return { tenant, tokens, 'purpose?': optional };
    case 'encrypt':
      return {
        tenant,
        field,
        plaintexts: nearArray(secretValue),
        'context?': optional,
        'subject?': subjects,
      };
    case 'decrypt':
      return {
        tenant,
        field,
        ciphertexts: nearArray(ciphertextStrings(c.ciphertexts)),
        'context?': optional,
      };
    case 'delete':
      return { tenant, tokens };
  }
}

/**
 * A request body for `endpoint` with its own field names: each field valid,
 * near-valid, of the wrong type or missing; sometimes a misspelt or extra
 * field, sometimes not an object at all.
 */
export function requestBody(endpoint: Endpoint, c: BodyContext): fc.Arbitrary<unknown> {
  const fields = fieldsOf(endpoint, c);
  const entries = Object.entries(fields).map(([name, arb]) => {
    const key = name.replace(/\?$/, '');
    return fc
      .oneof(
        { weight: 6, arbitrary: arb.map((v) => [key, v] as const) },
        { weight: 1, arbitrary: fc.constant(undefined) },
        {
          weight: 1,
          arbitrary: fc
            .constantFrom(key.toUpperCase(), `${key}s`, key.slice(0, -1), `${key}_`)
            .chain((k) => arb.map((v) => [k, v] as const)),
        },
      )
      .map((e) => e);
  });
  const object = fc
    .tuple(
      fc.tuple(...entries),
      fc.option(fc.tuple(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }))),
    )
    .map(([es, extra]) => {
      const body: Record<string, unknown> = {};
      for (const e of es) if (e !== undefined) body[e[0]] = e[1];
      if (extra !== null && extra[0] !== '__proto__') body[extra[0]] = extra[1];
      return body;
    });
  return fc.oneof({ weight: 9, arbitrary: object }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) });
}

/** Configuration environments: a working one with one setting replaced by a near-valid value. */
export function configEnvs(valid: Record<string, string>): fc.Arbitrary<Record<string, string>> {
  const nearValues: Record<string, readonly string[]> = {
    SIDEKEY_HTTP_HOST: [
      '0.0.0.0',
      '::',
      '127.0.0.1.',
      '::ffff:127.0.0.1',
      'localhost.',
      'LOCALHOST',
      '127.1',
      '[::1]',
      '10.0.0.1',
      '',
    ],
    SIDEKEY_HTTP_PORT: ['-1', '65536', '7600x', ' 7600', '0x1db0', '1e3', '', '7600.5'],
    SIDEKEY_STORE: ['Postgres', 'embedded ', 'sqlite', ''],
    SIDEKEY_KMS: ['AWS', 'gcp', 'vault', 'aws', ''],
    SIDEKEY_LOG_LEVEL: ['verbose', 'INFO', '', 'silent'],
    SIDEKEY_TENANTS: [',', 'a,,b', 'UPPER', 'a'.repeat(64), ' demo'],
    SIDEKEY_GRPC_SOCKET: ['relative.sock', '', '/'],
    SIDEKEY_TEK_CACHE_TTL_SECONDS: ['0', '-5', '86401', 'NaN', '1.5'],
    SIDEKEY_PG_URL: ['postgres://u:pw@h/db', 'http://x', 'not a url'],
    VAULT_ADDR: ['ftp://v', 'vault'],
  };
  const names = Object.keys(nearValues);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...names), fc.nat()).map(([name, i]) => {
      const options = nearValues[name] as readonly string[];
      return { ...valid, [name]: options[i % options.length] as string };
    }),
    fc
      .tuple(fc.constantFrom(...names), fc.string({ unit: 'binary', maxLength: 12 }))
      .map(([name, v]) => ({ ...valid, [name]: v })),
    fc
      .tuple(fc.constantFrom(...Object.keys(valid)), fc.string({ maxLength: 12 }))
      .chain(([name, v]) => mutateString(valid[name] ?? v).map((m) => ({ ...valid, [name]: m }))),
  );
}

type Json = unknown;

/** Paths (object keys and array indexes) of every value inside `value`. */
function pathsOf(value: Json, prefix: (string | number)[] = [], out: (string | number)[][] = []) {
  out.push(prefix);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) pathsOf(v, [...prefix, i], out);
  } else if (typeof value === 'object' && value !== null)
    for (const [k, v] of Object.entries(value)) pathsOf(v, [...prefix, k], out);
  return out;
}

function setAt(root: Json, path: readonly (string | number)[], value: Json | typeof REMOVE): Json {
  if (path.length === 0) return value === REMOVE ? undefined : value;
  const copy = structuredClone(root) as Record<string | number, Json>;
  let node = copy;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string | number, Json>;
  const last = path[path.length - 1] as string | number;
  if (value === REMOVE) {
    if (Array.isArray(node)) node.splice(last as number, 1);
    else delete node[last];
  } else node[last] = value;
  return copy;
}
const REMOVE = Symbol('remove');

/** AdmissionReviews near a valid one: one value anywhere removed, retyped or replaced. */
export function admissionReviews(valid: Json): fc.Arbitrary<Json> {
  const paths = pathsOf(valid);
  const replacement = fc.oneof(
    fc.constant(REMOVE),
    fc.constant(null),
    fc.constantFrom(0, -1, 1e308, true, '', 'true', 'false', 'Pod', 'CREATE', '  ', 'a'.repeat(300)),
    fc.constantFrom([], {}, [null], { '': '' }),
    fc.jsonValue({ maxDepth: 2 }),
    fc.string({ unit: 'binary', maxLength: 16 }),
  );
  const once = fc.tuple(fc.constantFrom(...paths), replacement).map(([path, v]) => setAt(valid, path, v));
  return fc.oneof(
    once,
    fc.tuple(once, fc.constantFrom(...paths), replacement).map(([m, path, v]) => {
      try {
        return setAt(m, path, v);
      } catch {
        return m;
      }
    }),
  );
}
