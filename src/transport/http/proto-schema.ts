/**
 * JSON Schemas (draft 2020-12, as OpenAPI 3.1 uses) of the proto3 canonical
 * JSON mapping of a protobuf package: what the HTTP API speaks. Each message
 * and enum of the package becomes one schema named by its name inside the
 * package; fields are named by their JSON name (lowerCamelCase, or an
 * explicit json_name), as proto3 JSON printers write them.
 *
 * What proto3 cannot say is added from the server's own validation (the
 * patterns of tenant and field, which fields a request must have) and from
 * what the service always answers: in a response every field is present
 * (sidekey writes plain objects, not default-omitting JSON), unless listed in
 * `OPTIONAL_IN_RESPONSES`, and a oneof has exactly one member set.
 */
import protobuf from 'protobufjs';
import { FIELD_PATTERN, TENANT_PATTERN } from '../../service/validate.js';

export type JsonSchema = Record<string, unknown>;

/** Rules the service applies to a request field of this JSON name, wherever it appears. */
const REQUEST_FIELD_RULES: Record<string, JsonSchema> = {
  tenant: { pattern: TENANT_PATTERN.source },
  field: { pattern: FIELD_PATTERN.source },
  values: { minItems: 1 },
  sealedValues: { minItems: 1 },
  sealedPlaintexts: { minItems: 1 },
  tokens: { minItems: 1 },
  plaintexts: { minItems: 1 },
  ciphertexts: { minItems: 1 },
};

/** The fields each request must have (the service refuses the call without them). */
const REQUIRED_IN_REQUESTS: Record<string, readonly string[]> = {
  // `values` or (v1.1) `sealedValues`: exactly one (see REQUEST_ONE_OF).
  TokenizeRequest: ['tenant', 'field'],
  DetokenizeRequest: ['tenant', 'tokens'],
  EncryptRequest: ['tenant', 'field'],
  DecryptRequest: ['tenant', 'field', 'ciphertexts'],
  DeleteTokensRequest: ['tenant', 'tokens'],
  GetIngestKeysRequest: ['tenant'],
};

/**
 * Requests that take exactly one of two lists (v1.1 ingest: plain or sealed
 * items). A list that is absent, null or empty counts as not given.
 */
const REQUEST_ONE_OF: Record<string, readonly [string, string]> = {
  TokenizeRequest: ['values', 'sealedValues'],
  EncryptRequest: ['plaintexts', 'sealedPlaintexts'],
};

/** Response fields that may be absent (proto3 JSON omits an empty string). */
const OPTIONAL_IN_RESPONSES: Record<string, readonly string[]> = {
  Error: ['requestId'],
  // Set only on a masked item (proto3 JSON leaves out false).
  DetokenizeResult: ['masked'],
  DecryptResult: ['masked'],
};

const INT32 = { type: 'integer', minimum: -2147483648, maximum: 2147483647 };
const UINT32 = { type: 'integer', minimum: 0, maximum: 4294967295 };
/** proto3 JSON writes 64-bit integers as decimal strings (and reads numbers too). */
const INT64 = { type: ['string', 'integer'], pattern: '^-?[0-9]+$' };
const UINT64 = { type: ['string', 'integer'], pattern: '^[0-9]+$', minimum: 0 };

const SCALARS: Record<string, JsonSchema> = {
  string: { type: 'string' },
  bool: { type: 'boolean' },
  bytes: { type: 'string', contentEncoding: 'base64' },
  double: { type: ['number', 'string'] },
  float: { type: ['number', 'string'] },
  int32: INT32,
  sint32: INT32,
  sfixed32: INT32,
  uint32: UINT32,
  fixed32: UINT32,
  int64: INT64,
  sint64: INT64,
  sfixed64: INT64,
  uint64: UINT64,
  fixed64: UINT64,
};

export interface PackageSchemas {
  /** Schema name -> schema, for `components.schemas`. */
  readonly schemas: Record<string, JsonSchema>;
  /** The schema name of a message or enum of the package. */
  nameOf(type: protobuf.ReflectionObject): string;
}

/**
 * The schemas of every message and enum in `pkg`. `requestTypes` are the
 * messages an RPC takes: they and what they contain get the request rules;
 * everything else is a response shape. `ref` makes a reference to a schema name.
 */
export function packageSchemas(
  pkg: protobuf.Namespace,
  requestTypes: readonly protobuf.Type[],
  ref: (name: string) => string,
): PackageSchemas {
  const prefix = `${pkg.fullName}.`;
  const nameOf = (t: protobuf.ReflectionObject) => t.fullName.slice(prefix.length).replaceAll('.', '_');
  const requestSide = new Set<protobuf.Type>();
  const visit = (t: protobuf.Type) => {
    if (requestSide.has(t)) return;
    requestSide.add(t);
    for (const f of t.fieldsArray) if (f.resolvedType instanceof protobuf.Type) visit(f.resolvedType);
  };
  for (const t of requestTypes) visit(t);

  const refOf = (t: protobuf.ReflectionObject) => ref(nameOf(t));
  const schemas: Record<string, JsonSchema> = {};
  const walk = (ns: protobuf.NamespaceBase) => {
    for (const nested of ns.nestedArray) {
      if (nested instanceof protobuf.Type) {
        schemas[nameOf(nested)] = messageSchema(nested, requestSide.has(nested), nameOf(nested), refOf);
      } else if (nested instanceof protobuf.Enum) {
        schemas[nameOf(nested)] = withDescription(
          { type: 'string', enum: Object.keys(nested.values) },
          nested,
        );
      }
      if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) walk(nested);
    }
  };
  walk(pkg);
  return { schemas, nameOf };
}

function jsonNameOf(field: protobuf.Field): string {
  const explicit = (field.options as Record<string, unknown> | undefined)?.json_name;
  return typeof explicit === 'string' ? explicit : protobuf.util.camelCase(field.name);
}

function withDescription(schema: JsonSchema, of: protobuf.ReflectionObject): JsonSchema {
  return of.comment ? { description: of.comment, ...schema } : schema;
}

function fieldSchema(field: protobuf.Field, refOf: (t: protobuf.ReflectionObject) => string): JsonSchema {
  const resolved = field.resolvedType;
  const value: JsonSchema =
    resolved === null
      ? (SCALARS[field.type] ?? {})
      : resolved.fullName === '.google.protobuf.Timestamp' ||
          resolved.fullName === '.google.protobuf.Duration'
        ? { type: 'string' }
        : { $ref: refOf(resolved) };
  if (field instanceof protobuf.MapField) return { type: 'object', additionalProperties: value };
  return field.repeated ? { type: 'array', items: value } : value;
}

function messageSchema(
  type: protobuf.Type,
  isRequest: boolean,
  name: string,
  refOf: (t: protobuf.ReflectionObject) => string,
): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const optional = new Set(OPTIONAL_IN_RESPONSES[name] ?? []);
  for (const field of type.fieldsArray) {
    const json = jsonNameOf(field);
    const rules = isRequest ? (REQUEST_FIELD_RULES[json] ?? {}) : {};
    const schema: JsonSchema = { ...fieldSchema(field, refOf), ...rules };
    // proto3 JSON: null stands for the default of any field, so an optional
    // request field may be null (the service takes it as absent).
    const nullable = isRequest && !(REQUIRED_IN_REQUESTS[name] ?? []).includes(json);
    properties[json] = withDescription(nullable ? { anyOf: [schema, { type: 'null' }] } : schema, field);
    const inRealOneof = field.partOf !== null && field.partOf.fieldsArray.length > 1;
    if (!isRequest && !inRealOneof && !optional.has(json)) required.push(json);
  }
  if (isRequest) required.push(...(REQUIRED_IN_REQUESTS[name] ?? []));
  const oneofs = type.oneofsArray
    .filter((o) => o.fieldsArray.length > 1)
    .map((o) => {
      const members = o.fieldsArray.map((f) => ({ required: [jsonNameOf(f)] }));
      // A response sets exactly one member; a request may set none.
      return { oneOf: isRequest ? [...members, { not: { anyOf: members } }] : members };
    });
  const pair = isRequest ? REQUEST_ONE_OF[name] : undefined;
  if (pair !== undefined) {
    const given = (json: string) => ({
      required: [json],
      properties: { [json]: { type: 'array', minItems: 1 } },
    });
    oneofs.push({ oneOf: pair.map(given) });
  }
  return withDescription(
    {
      type: 'object',
      properties,
      ...(required.length > 0 && { required }),
      ...(!isRequest && { additionalProperties: false }),
      ...(oneofs.length === 1 ? oneofs[0] : oneofs.length > 1 ? { allOf: oneofs } : {}),
    },
    type,
  );
}
