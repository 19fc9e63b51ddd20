// Original file: proto/sidekey/v1/sidekey.proto


export interface TokenizeRequest {
  /**
   * ^[a-z0-9][a-z0-9-]{0,62}$
   */
  'tenant'?: (string);
  /**
   * ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$
   */
  'field'?: (string);
  /**
   * 1 to 1000 values; each at most 64 KiB of UTF-8. Any string comes back
   * exactly as given, the empty string included.
   */
  'values'?: (string)[];
}

export interface TokenizeRequest__Output {
  /**
   * ^[a-z0-9][a-z0-9-]{0,62}$
   */
  'tenant': (string);
  /**
   * ^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$
   */
  'field': (string);
  /**
   * 1 to 1000 values; each at most 64 KiB of UTF-8. Any string comes back
   * exactly as given, the empty string included.
   */
  'values': (string)[];
}
