/**
 * Structure-aware mutation of near-valid inputs (fast-check arbitraries):
 * start from something valid and break it a little — one character, one
 * byte, one length field, one piece cut off or repeated — so the fuzzers
 * reach the branches behind the first check instead of bouncing off it.
 * Shared by the fixed-budget fuzz tests (`npm test`) and the long campaign
 * (`npm run fuzz`).
 */
import fc from 'fast-check';

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** Characters a careless encoder or an attacker would put in an encoded string. */
const nearChar = fc.oneof(
  fc.constantFrom(...BASE64URL.split('')),
  fc.constantFrom('=', '+', '/', '.', ' ', '\n', '\u0000', '%', 'é', '\ud800', '😀', '\u202e'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);

/** One edit of a string: replace, insert or delete a character, cut, repeat, or change case. */
export function mutateString(valid: string): fc.Arbitrary<string> {
  const n = valid.length;
  const at = fc.nat({ max: Math.max(0, n - 1) });
  return fc.oneof(
    fc.tuple(at, nearChar).map(([i, c]) => valid.slice(0, i) + c + valid.slice(i + 1)),
    fc.tuple(fc.nat({ max: n }), nearChar).map(([i, c]) => valid.slice(0, i) + c + valid.slice(i)),
    at.map((i) => valid.slice(0, i) + valid.slice(i + 1)),
    fc.nat({ max: n }).map((i) => valid.slice(0, i)),
    fc.nat({ max: n }).map((i) => valid.slice(i)),
    fc.tuple(at, fc.integer({ min: 1, max: 4 })).map(([i, k]) => valid + valid.slice(i).repeat(k)),
    fc.constant(valid.toUpperCase()),
    fc.constant(valid.toLowerCase()),
    fc.constant(` ${valid}`),
    fc.constant(`${valid}\n`),
    fc.constant(valid + valid),
  );
}

/** Several edits in a row (1 to 3). */
export function mutateStringDeep(valid: string): fc.Arbitrary<string> {
  return fc
    .integer({ min: 1, max: 3 })
    .chain((k) =>
      k === 1 ? mutateString(valid) : mutateString(valid).chain((once) => mutateStringDeep1(once, k - 1)),
    );
}
function mutateStringDeep1(s: string, k: number): fc.Arbitrary<string> {
  return k <= 0 ? fc.constant(s) : mutateString(s).chain((m) => mutateStringDeep1(m, k - 1));
}

/** One edit of bytes: flip a bit, set a byte, insert, delete, truncate, extend, or swap two. */
export function mutateBytes(valid: Uint8Array): fc.Arbitrary<Buffer> {
  const n = valid.length;
  const at = fc.nat({ max: Math.max(0, n - 1) });
  const copy = () => Buffer.from(valid);
  return fc.oneof(
    fc.tuple(at, fc.nat({ max: 7 })).map(([i, bit]) => {
      const b = copy();
      if (n > 0) b[i] = (b[i] as number) ^ (1 << bit);
      return b;
    }),
    fc.tuple(at, fc.constantFrom(0x00, 0x01, 0x02, 0x7f, 0x80, 0xfe, 0xff)).map(([i, v]) => {
      const b = copy();
      if (n > 0) b[i] = v;
      return b;
    }),
    fc
      .tuple(fc.nat({ max: n }), fc.uint8Array({ minLength: 1, maxLength: 8 }))
      .map(([i, ins]) => Buffer.concat([valid.subarray(0, i), ins, valid.subarray(i)])),
    at.map((i) => Buffer.concat([valid.subarray(0, i), valid.subarray(i + 1)])),
    fc.nat({ max: n }).map((i) => Buffer.from(valid.subarray(0, i))),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((extra) => Buffer.concat([valid, extra])),
    fc.tuple(at, at).map(([i, j]) => {
      const b = copy();
      const x = b[i] as number;
      b[i] = b[j] as number;
      b[j] = x;
      return b;
    }),
  );
}

/** A JSON value of the wrong kind for a field (anything but what `keep` accepts). */
export function wrongType(keep: (v: unknown) => boolean): fc.Arbitrary<unknown> {
  return fc
    .oneof(
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double(),
      fc.string({ maxLength: 8 }),
      fc.array(fc.integer(), { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
      fc.jsonValue({ maxDepth: 2 }),
    )
    .filter((v) => !keep(v));
}

/**
 * An array that mixes good items with bad ones at random positions (first,
 * middle, last): the bug class "only item 0 is type-checked" (`["ok", 5]`).
 */
export function mixedArray<T>(good: fc.Arbitrary<T>, bad: fc.Arbitrary<unknown>): fc.Arbitrary<unknown[]> {
  return fc
    .tuple(
      fc.array(good, { minLength: 1, maxLength: 6 }),
      fc.array(fc.tuple(fc.nat(), bad), { minLength: 1, maxLength: 3 }),
    )
    .map(([items, inserts]) => {
      const out: unknown[] = [...items];
      for (const [pos, b] of inserts) out.splice(pos % (out.length + 1), 0, b);
      return out;
    });
}
