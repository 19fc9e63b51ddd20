// Original file: proto/sidekey/v1/sidekey.proto


export interface DeleteTokensResponse {
  /**
   * How many of the given tokens were deleted. A 32-bit integer so that it is
   * a JSON number (proto3 JSON writes 64-bit integers as strings).
   */
  'deleted'?: (number);
}

export interface DeleteTokensResponse__Output {
  /**
   * How many of the given tokens were deleted. A 32-bit integer so that it is
   * a JSON number (proto3 JSON writes 64-bit integers as strings).
   */
  'deleted': (number);
}
