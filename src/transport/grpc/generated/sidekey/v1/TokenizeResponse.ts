// Original file: proto/sidekey/v1/sidekey.proto


export interface TokenizeResponse {
  /**
   * One token for each value, in the same order.
   */
  'tokens'?: (string)[];
}

export interface TokenizeResponse__Output {
  /**
   * One token for each value, in the same order.
   */
  'tokens': (string)[];
}
