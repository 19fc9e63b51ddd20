// Original file: proto/sidekey/v1/sidekey.proto


export interface DetokenizeRequest {
  'tenant'?: (string);
  /**
   * 1 to 1000 tokens.
   */
  'tokens'?: (string)[];
  /**
   * Why the values are revealed; recorded in the audit event. Optional.
   */
  'purpose'?: (string);
}

export interface DetokenizeRequest__Output {
  'tenant': (string);
  /**
   * 1 to 1000 tokens.
   */
  'tokens': (string)[];
  /**
   * Why the values are revealed; recorded in the audit event. Optional.
   */
  'purpose': (string);
}
