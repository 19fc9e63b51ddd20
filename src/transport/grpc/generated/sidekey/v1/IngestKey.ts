// Original file: proto/sidekey/v1/sidekey.proto


/**
 * One ingest public key (docs/formats.md §19).
 */
export interface IngestKey {
  /**
   * `xwing_…` or `x25519_…`; goes into the sealed string.
   */
  'key_id'?: (string);
  /**
   * "X-Wing" or "DHKEM(X25519, HKDF-SHA256)".
   */
  'kem'?: (string);
  /**
   * "HKDF-SHA256".
   */
  'kdf'?: (string);
  /**
   * "AES-256-GCM".
   */
  'aead'?: (string);
  /**
   * The KEM public key, base64url without padding.
   */
  'public_key'?: (string);
}

/**
 * One ingest public key (docs/formats.md §19).
 */
export interface IngestKey__Output {
  /**
   * `xwing_…` or `x25519_…`; goes into the sealed string.
   */
  'key_id': (string);
  /**
   * "X-Wing" or "DHKEM(X25519, HKDF-SHA256)".
   */
  'kem': (string);
  /**
   * "HKDF-SHA256".
   */
  'kdf': (string);
  /**
   * "AES-256-GCM".
   */
  'aead': (string);
  /**
   * The KEM public key, base64url without padding.
   */
  'public_key': (string);
}
