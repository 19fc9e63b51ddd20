/**
 * The gRPC handlers of `sidekey.v1.Sidekey`: read the credentials from
 * metadata, call the shared TokenService with the decoded request, map the
 * result. Nothing else happens here; validation lives in the service, so
 * both transports refuse exactly the same input.
 */
import { randomUUID } from 'node:crypto';
import {
  type handleUnaryCall,
  Metadata,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type sendUnaryData,
} from '@grpc/grpc-js';
import type { MethodDefinition } from '@grpc/proto-loader';
import { type ErrorCode, grpcStatusOf, SidekeyError } from '../../errors/index.js';
import type { CallContext, TokenService } from '../../service/index.js';
import { bearerMatches, tokenDigest } from '../http/guards.js';
import type { SidekeyDefinition, SidekeyHandlers } from './generated/sidekey/v1/Sidekey.js';
import { checkWire, type StringField } from './utf8.js';

export type GrpcService = Pick<
  TokenService,
  'tokenize' | 'detokenize' | 'encrypt' | 'decrypt' | 'deleteTokens' | 'forgetSubjects' | 'ingestKeys'
>;

export interface HandlerDeps {
  readonly service: GrpcService;
  /** When set, data calls need metadata `authorization: Bearer <token>`. */
  readonly clientToken: string | undefined;
  readonly onInternalError: (err: unknown, requestId: string) => void;
  /** Told of every call refused for a missing or wrong client token (metrics). */
  readonly onRefused?: (reason: 'client_token') => void;
}

/** The same rule as the HTTP X-Request-Id header. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Set by the request deserializer when the bytes cannot be taken as they are. */
const REFUSED = Symbol('sidekey.refusedRequest');
type Refusable = { [REFUSED]?: string };

const METHODS = {
  Tokenize: 'tokenize',
  Detokenize: 'detokenize',
  Encrypt: 'encrypt',
  Decrypt: 'decrypt',
  DeleteTokens: 'deleteTokens',
  ForgetSubjects: 'forgetSubjects',
  GetIngestKeys: 'ingestKeys',
} as const satisfies Record<keyof SidekeyHandlers & string, keyof GrpcService>;

export function createHandlers(deps: HandlerDeps): SidekeyHandlers {
  const clientTokenDigest = deps.clientToken === undefined ? undefined : tokenDigest(deps.clientToken);

  const unary =
    (method: keyof GrpcService): handleUnaryCall<object, object> =>
    (call: ServerUnaryCall<object, object>, callback: sendUnaryData<object>) => {
      const requestId = requestIdOf(call.metadata);
      const trailer = new Metadata();
      trailer.set('x-request-id', requestId);
      const fail = (code: ErrorCode, message: string) => {
        const status: Partial<ServerErrorResponse> = {
          code: grpcStatusOf(code),
          details: message,
          metadata: trailer,
        };
        callback(status, null);
      };
      // The deadline passed or the client left before we started: do no work.
      if (call.cancelled) return;
      if (
        clientTokenDigest !== undefined &&
        !bearerMatches(joined(call.metadata, 'authorization'), clientTokenDigest)
      ) {
        deps.onRefused?.('client_token');
        return fail('UNAUTHENTICATED', 'a valid client token (authorization: Bearer) is required');
      }
      const refused = (call.request as Refusable)[REFUSED];
      if (refused !== undefined) return fail('INVALID_ARGUMENT', refused);
      const ctx: CallContext = {
        orkString: joined(call.metadata, 'x-sidekey-org-key'),
        requestId,
        caller: 'grpc',
      };
      deps.service[method](jsonNamed(call.request), ctx).then(
        (response) => {
          // After a cancel or an expired deadline grpc-js has already ended the call.
          if (!call.cancelled) callback(null, protoNamed(response), trailer);
        },
        (err: unknown) => {
          if (err instanceof SidekeyError) {
            if (!call.cancelled) fail(err.code, err.message);
            return;
          }
          deps.onInternalError(err, requestId);
          if (!call.cancelled) fail('INTERNAL', 'internal error; see the server log for this request id');
        },
      );
    };

  return Object.fromEntries(
    Object.entries(METHODS).map(([name, method]) => [name, unary(method)]),
  ) as unknown as SidekeyHandlers;
}

/**
 * The service definition with request deserializers that refuse, instead of
 * silently altering, requests that are not valid protobuf or whose strings
 * are not valid UTF-8 (the handler answers INVALID_ARGUMENT naming the field).
 */
export function strictDefinition(definition: SidekeyDefinition): SidekeyDefinition {
  const strict: Record<string, unknown> = {};
  const methods = definition as unknown as Record<string, MethodDefinition<object, object>>;
  for (const [name, method] of Object.entries(methods)) {
    const strings = stringFieldsOf(method.requestType.type);
    const decode = method.requestDeserialize;
    strict[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): object => {
        const verdict = checkWire(bytes, strings);
        if (!verdict.ok) {
          return {
            [REFUSED]: verdict.malformed
              ? 'the request is not a valid protobuf message'
              : `${verdict.invalidUtf8} is not valid UTF-8 and could not come back exactly`,
          };
        }
        try {
          return decode(bytes);
        } catch {
          return { [REFUSED]: 'the request is not a valid protobuf message' };
        }
      },
    };
  }
  return strict as unknown as SidekeyDefinition;
}

interface FieldDescriptor {
  readonly name: string;
  readonly number: number;
  readonly label: string;
  readonly type: string;
}

function stringFieldsOf(descriptor: object): Map<number, StringField> {
  const fields = (descriptor as { field?: FieldDescriptor[] }).field ?? [];
  return new Map(
    fields
      .filter((f) => f.type === 'TYPE_STRING')
      .map((f) => [f.number, { name: f.name, repeated: f.label === 'LABEL_REPEATED' }]),
  );
}

/**
 * The request under its proto3 JSON names (`ttl_seconds` → `ttlSeconds`),
 * as HTTP gives it to the service; the synthetic oneof of an `optional`
 * field (`_ttl_seconds`) is left out. Most requests have no such key and
 * pass unchanged.
 */
export function jsonNamed(request: object): object {
  const keys = Object.keys(request);
  if (!keys.some((k) => k.includes('_'))) return request;
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (k.startsWith('_')) continue;
    out[k.replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase())] = (request as Record<string, unknown>)[
      k
    ];
  }
  return out;
}

/**
 * The response under its proto field names (`keyId` → `key_id`), which the
 * keepCase serializer expects. Only responses with such fields (GetIngestKeys)
 * are copied; the others pass unchanged.
 */
export function protoNamed(response: object): object {
  if (!('keys' in response) || !Array.isArray(response.keys)) return response;
  return {
    ...response,
    keys: response.keys.map((k: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(k).map(([name, v]) => [name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]),
      ),
    ),
  };
}

function requestIdOf(metadata: Metadata): string {
  const given = single(metadata, 'x-request-id');
  return given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
}

function single(metadata: Metadata, key: string): string | undefined {
  const [first] = metadata.get(key);
  return typeof first === 'string' ? first : undefined;
}

/** Repeated entries are joined as HTTP joins repeated headers (and then fail to parse, as there). */
function joined(metadata: Metadata, key: string): string | undefined {
  const values = metadata.get(key).filter((v): v is string => typeof v === 'string');
  return values.length === 0 ? undefined : values.join(', ');
}
