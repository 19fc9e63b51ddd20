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
  /**
   * The tokens' time to live in seconds (v1.1), 1 to 315360000 (ten years).
   * The field policy's TTL wins when it is shorter. Unset or 0 (proto3 cannot
   * tell them apart): the policy's TTL (none for a field without a policy).
   * Not `optional`: protoc before 3.15 (Debian 12's grpc-tools bundles 3.5)
   * cannot compile proto3 optional fields. JSON: ttlSeconds.
   */
  'ttl_seconds'?: (number);
  /**
   * The data subject the values belong to (v1.1), an opaque id such as a
   * user id: ^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$. The values are then also
   * encrypted under that subject's random key, which ForgetSubjects
   * destroys. Optional (empty: no subject). Not allowed on fpe fields.
   */
  'subject'?: (string);
  /**
   * Sealed values (v1.1, end-to-end encrypted ingest) in place of `values`:
   * each `hpke:<keyId>:<base64url enc>:<base64url ciphertext>`, sealed for
   * this tenant and field with a key from GetIngestKeys. Exactly one of
   * `values` and `sealed_values`. JSON: sealedValues.
   */
  'sealed_values'?: (string)[];
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
  /**
   * The tokens' time to live in seconds (v1.1), 1 to 315360000 (ten years).
   * The field policy's TTL wins when it is shorter. Unset or 0 (proto3 cannot
   * tell them apart): the policy's TTL (none for a field without a policy).
   * Not `optional`: protoc before 3.15 (Debian 12's grpc-tools bundles 3.5)
   * cannot compile proto3 optional fields. JSON: ttlSeconds.
   */
  'ttl_seconds': (number);
  /**
   * The data subject the values belong to (v1.1), an opaque id such as a
   * user id: ^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$. The values are then also
   * encrypted under that subject's random key, which ForgetSubjects
   * destroys. Optional (empty: no subject). Not allowed on fpe fields.
   */
  'subject': (string);
  /**
   * Sealed values (v1.1, end-to-end encrypted ingest) in place of `values`:
   * each `hpke:<keyId>:<base64url enc>:<base64url ciphertext>`, sealed for
   * this tenant and field with a key from GetIngestKeys. Exactly one of
   * `values` and `sealed_values`. JSON: sealedValues.
   */
  'sealed_values': (string)[];
}
