/**
 * The one table that puts the RPCs of `sidekey.v1.Sidekey` on HTTP paths.
 * The HTTP app registers a POST route per entry and calls the service
 * method of the same name (`DeleteTokens` -> `deleteTokens`); the OpenAPI
 * document takes each operation's request and response schemas from the
 * RPC's messages in the proto. A new RPC is one line here.
 */
import type { SidekeyHandlers } from '../grpc/generated/sidekey/v1/Sidekey.js';

export type RpcName = keyof SidekeyHandlers & string;

export const DATA_ROUTES = {
  '/v1/tokenize': 'Tokenize',
  '/v1/detokenize': 'Detokenize',
  '/v1/encrypt': 'Encrypt',
  '/v1/decrypt': 'Decrypt',
  '/v1/tokens/delete': 'DeleteTokens',
  '/v1/subjects/forget': 'ForgetSubjects',
  '/v1/ingest/keys': 'GetIngestKeys',
} as const satisfies Record<string, RpcName>;

export type DataRoute = keyof typeof DATA_ROUTES;

/** RPCs whose service method is not their name with a lower-case first letter. */
const METHOD_NAMES = { GetIngestKeys: 'ingestKeys' } as const;
type MethodOf<R extends RpcName> = R extends keyof typeof METHOD_NAMES
  ? (typeof METHOD_NAMES)[R]
  : Uncapitalize<R>;

/** The service method an RPC calls: its name with a lower-case first letter (or as METHOD_NAMES says). */
export function serviceMethodOf<R extends RpcName>(rpc: R): MethodOf<R> {
  const named = (METHOD_NAMES as Record<string, string>)[rpc];
  return (named ?? rpc.charAt(0).toLowerCase() + rpc.slice(1)) as MethodOf<R>;
}
