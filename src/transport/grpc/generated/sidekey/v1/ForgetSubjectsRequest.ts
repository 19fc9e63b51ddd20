// Original file: proto/sidekey/v1/sidekey.proto


export interface ForgetSubjectsRequest {
  'tenant'?: (string);
  /**
   * 1 to 1000 subject ids, each ^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$.
   */
  'subjects'?: (string)[];
}

export interface ForgetSubjectsRequest__Output {
  'tenant': (string);
  /**
   * 1 to 1000 subject ids, each ^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$.
   */
  'subjects': (string)[];
}
