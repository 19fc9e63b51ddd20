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
  /**
   * The field the tokens were made for (v1.1). Needed for fpe tokens, which
   * cannot be told from values by their syntax: with a field, any string is
   * looked up as a token of that field, and one that is not is a per-item
   * NOT_FOUND. Optional for other tokens.
   */
  'field'?: (string);
  /**
   * Mask every value by its field's policy (v1.1; redact for a field
   * without a policy). An ORK limited to masked reveal always gets masked
   * values.
   */
  'mask'?: (boolean);
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
  /**
   * The field the tokens were made for (v1.1). Needed for fpe tokens, which
   * cannot be told from values by their syntax: with a field, any string is
   * looked up as a token of that field, and one that is not is a per-item
   * NOT_FOUND. Optional for other tokens.
   */
  'field': (string);
  /**
   * Mask every value by its field's policy (v1.1; redact for a field
   * without a policy). An ORK limited to masked reveal always gets masked
   * values.
   */
  'mask': (boolean);
}
