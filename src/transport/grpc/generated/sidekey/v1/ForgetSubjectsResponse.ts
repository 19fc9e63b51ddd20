// Original file: proto/sidekey/v1/sidekey.proto


export interface ForgetSubjectsResponse {
  /**
   * How many of the given subjects had a key that is now destroyed.
   */
  'forgotten'?: (number);
}

export interface ForgetSubjectsResponse__Output {
  /**
   * How many of the given subjects had a key that is now destroyed.
   */
  'forgotten': (number);
}
