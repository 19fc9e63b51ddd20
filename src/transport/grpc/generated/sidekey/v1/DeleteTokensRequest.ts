// Original file: proto/sidekey/v1/sidekey.proto


export interface DeleteTokensRequest {
  'tenant'?: (string);
  /**
   * 1 to 1000 tokens.
   */
  'tokens'?: (string)[];
  /**
   * The field the tokens were made for (v1.1); needed for fpe tokens, as in
   * DetokenizeRequest.
   */
  'field'?: (string);
}

export interface DeleteTokensRequest__Output {
  'tenant': (string);
  /**
   * 1 to 1000 tokens.
   */
  'tokens': (string)[];
  /**
   * The field the tokens were made for (v1.1); needed for fpe tokens, as in
   * DetokenizeRequest.
   */
  'field': (string);
}
