// Original file: proto/sidekey/v1/sidekey.proto

import type { Error as _sidekey_v1_Error, Error__Output as _sidekey_v1_Error__Output } from '../../sidekey/v1/Error.js';

/**
 * The HTTP body of a failed call: {"error": {"code", "message", "requestId"}}.
 * gRPC does not use it: a failed call ends with a status instead.
 */
export interface ErrorResponse {
  'error'?: (_sidekey_v1_Error | null);
}

/**
 * The HTTP body of a failed call: {"error": {"code", "message", "requestId"}}.
 * gRPC does not use it: a failed call ends with a status instead.
 */
export interface ErrorResponse__Output {
  'error': (_sidekey_v1_Error__Output | null);
}
