// Original file: proto/sidekey/v1/sidekey.proto

import type { IngestKey as _sidekey_v1_IngestKey, IngestKey__Output as _sidekey_v1_IngestKey__Output } from '../../sidekey/v1/IngestKey.js';

export interface GetIngestKeysResponse {
  /**
   * One key per suite, X-Wing (post-quantum hybrid) first.
   */
  'keys'?: (_sidekey_v1_IngestKey)[];
}

export interface GetIngestKeysResponse__Output {
  /**
   * One key per suite, X-Wing (post-quantum hybrid) first.
   */
  'keys': (_sidekey_v1_IngestKey__Output)[];
}
