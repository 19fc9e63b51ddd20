/**
 * Request validation shared by every transport (API.md "Operations").
 * Input arrives as parsed JSON (HTTP) or decoded protobuf (gRPC); both are
 * checked here, so the rules cannot drift between transports.
 *
 * Rule of thumb: what is wrong with the request's *syntax* fails the whole
 * call with INVALID_ARGUMENT naming the index; what is wrong with a
 * well-formed item's *content* (unknown token, wrong context) is answered
 * per item by detokenize/decrypt.
 */
import { isTokenSyntax, SUBJECT_PATTERN } from '../crypto/index.js';
import { invalid, SidekeyError } from '../errors/index.js';
import { isValidTtl, MAX_TTL_SECONDS } from '../policy/index.js';

export const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
export const FIELD_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;
export const MAX_PURPOSE_CHARS = 256;
export const MAX_CONTEXT_BYTES = 4096;

export interface Limits {
  readonly maxBatch: number;
  readonly maxValueBytes: number;
}

type Body = Record<string, unknown>;

export function asBody(input: unknown): Body {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw invalid('the request body must be a JSON object');
  }
  return input as Body;
}

export function tenantOf(body: Body): string {
  const t = body.tenant;
  if (typeof t !== 'string' || !TENANT_PATTERN.test(t)) {
    throw invalid('tenant must be a string matching ^[a-z0-9][a-z0-9-]{0,62}$');
  }
  return t;
}

export function fieldOf(body: Body): string {
  const f = body.field;
  if (typeof f !== 'string' || !FIELD_PATTERN.test(f)) {
    throw invalid('field must be a string matching ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$');
  }
  return f;
}

/** A batch: an array of 1..maxBatch strings. */
export function batchOf(body: Body, name: string, limits: Limits): string[] {
  const list = body[name];
  if (!Array.isArray(list)) throw invalid(`${name} must be an array of strings`);
  if (list.length === 0) throw invalid(`${name} must not be empty`);
  if (list.length > limits.maxBatch)
    throw invalid(`${name} holds ${list.length} items; the limit is ${limits.maxBatch}`);
  for (let i = 0; i < list.length; i++) {
    if (typeof list[i] !== 'string') throw invalid(`${name}[${i}] must be a string`, i);
  }
  return list as string[];
}

/** Values to protect: exactly representable (well-formed Unicode) and within the size limit. */
export function valuesOf(body: Body, name: string, limits: Limits): string[] {
  const values = batchOf(body, name, limits);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (!v.isWellFormed()) {
      throw invalid(
        `${name}[${i}] is not valid Unicode (it has an unpaired surrogate) and could not come back exactly`,
        i,
      );
    }
    // Cheap bound first: UTF-8 needs at most 3 bytes per UTF-16 code unit.
    if (v.length * 3 > limits.maxValueBytes && Buffer.byteLength(v, 'utf8') > limits.maxValueBytes) {
      throw new SidekeyError(
        'PAYLOAD_TOO_LARGE',
        `${name}[${i}] is over the limit of ${limits.maxValueBytes} bytes`,
        {
          index: i,
        },
      );
    }
  }
  return values;
}

/** An optional field name (detokenize, delete): absent, null and "" are the same (proto3). */
export function optionalFieldOf(body: Body): string | undefined {
  const f = body.field;
  if (f === undefined || f === null || f === '') return undefined;
  return fieldOf(body);
}

/**
 * Tokens to look up. Without a field every one must have the token syntax
 * (v1: a malformed token fails the whole call). With a field any string is
 * a candidate — an fpe token looks like a value — and one that is not a
 * token of that field is a per-item NOT_FOUND.
 */
export function tokensOf(body: Body, limits: Limits, field?: string): string[] {
  if (field !== undefined) return valuesOf(body, 'tokens', limits);
  const tokens = batchOf(body, 'tokens', limits);
  for (let i = 0; i < tokens.length; i++) {
    if (!isTokenSyntax(tokens[i]!)) throw invalid(`tokens[${i}] is not a sidekey token`, i);
  }
  return tokens;
}

/**
 * `ttlSeconds` of a tokenize (API.md "Expiry"): absent, null or 0 = none (0
 * is proto3's default, which gRPC cannot tell from absent); else
 * 1..MAX_TTL_SECONDS whole seconds.
 */
export function optionalTtlOf(body: Body): number | undefined {
  const v = body.ttlSeconds;
  if (v === undefined || v === null || v === 0) return undefined;
  if (!isValidTtl(v))
    throw invalid(`ttlSeconds must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS} (ten years)`);
  return v;
}

/** An optional string (absent, null and "" are the same, as in proto3). */
export function optionalText(body: Body, name: string, maxBytes: number): string {
  const v = body[name];
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw invalid(`${name} must be a string`);
  if (!v.isWellFormed()) throw invalid(`${name} is not valid Unicode`);
  if (Buffer.byteLength(v, 'utf8') > maxBytes)
    throw invalid(`${name} is over the limit of ${maxBytes} bytes`);
  return v;
}

/** A tokenize's or encrypt's data subject (issue 13): absent, null and "" are none (proto3). */
export function optionalSubjectOf(body: Body): string | undefined {
  const v = body.subject;
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string' || !SUBJECT_PATTERN.test(v))
    throw invalid('subject must be a string matching ^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$');
  return v;
}

/** The subjects of a forget: 1..maxBatch ids, each naming its index when malformed; duplicates count once. */
export function subjectsOf(body: Body, limits: Limits): string[] {
  const subjects = batchOf(body, 'subjects', limits);
  for (let i = 0; i < subjects.length; i++) {
    if (!SUBJECT_PATTERN.test(subjects[i]!))
      throw invalid(`subjects[${i}] must match ^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$`, i);
  }
  return [...new Set(subjects)];
}
