// Original file: proto/sidekey/v1/sidekey.proto


/**
 * An error: a code of the catalogue of API.md and a message meant for
 * humans. Messages never contain a value, a key or an ORK.
 */
export interface Error {
  /**
   * One of INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND,
   * FAILED_PRECONDITION, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE,
   * RESOURCE_EXHAUSTED, UNAVAILABLE, INTERNAL. A string, not an enum, so that
   * codes can be added without breaking older clients; treat an unknown code
   * like INTERNAL.
   */
  'code'?: (string);
  'message'?: (string);
  /**
   * The request id of a failed call. Set only in the HTTP error body
   * (ErrorResponse); empty, and so absent from JSON, in per-item results.
   * gRPC returns it in the trailing metadata `x-request-id` instead.
   */
  'request_id'?: (string);
}

/**
 * An error: a code of the catalogue of API.md and a message meant for
 * humans. Messages never contain a value, a key or an ORK.
 */
export interface Error__Output {
  /**
   * One of INVALID_ARGUMENT, UNAUTHENTICATED, PERMISSION_DENIED, NOT_FOUND,
   * FAILED_PRECONDITION, PAYLOAD_TOO_LARGE, UNSUPPORTED_MEDIA_TYPE,
   * RESOURCE_EXHAUSTED, UNAVAILABLE, INTERNAL. A string, not an enum, so that
   * codes can be added without breaking older clients; treat an unknown code
   * like INTERNAL.
   */
  'code': (string);
  'message': (string);
  /**
   * The request id of a failed call. Set only in the HTTP error body
   * (ErrorResponse); empty, and so absent from JSON, in per-item results.
   * gRPC returns it in the trailing metadata `x-request-id` instead.
   */
  'request_id': (string);
}
