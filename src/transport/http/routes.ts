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
} as const satisfies Record<string, RpcName>;

export type DataRoute = keyof typeof DATA_ROUTES;

/** The service method an RPC calls: its name with a lower-case first letter. */
export function serviceMethodOf<R extends RpcName>(rpc: R): Uncapitalize<R> {
  return (rpc.charAt(0).toLowerCase() + rpc.slice(1)) as Uncapitalize<R>;
}
