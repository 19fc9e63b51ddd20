// Original file: proto/sidekey/v1/sidekey.proto


export interface DeleteTokensRequest {
  'tenant'?: (string);
  /**
   * 1 to 1000 tokens.
   */
  'tokens'?: (string)[];
}

export interface DeleteTokensRequest__Output {
  'tenant': (string);
  /**
   * 1 to 1000 tokens.
   */
  'tokens': (string)[];
}
