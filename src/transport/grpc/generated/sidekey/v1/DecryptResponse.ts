// Original file: proto/sidekey/v1/sidekey.proto

import type { DecryptResult as _sidekey_v1_DecryptResult, DecryptResult__Output as _sidekey_v1_DecryptResult__Output } from '../../sidekey/v1/DecryptResult.js';

export interface DecryptResponse {
  /**
   * One result for each ciphertext, in the same order.
   */
  'results'?: (_sidekey_v1_DecryptResult)[];
}

export interface DecryptResponse__Output {
  /**
   * One result for each ciphertext, in the same order.
   */
  'results': (_sidekey_v1_DecryptResult__Output)[];
}
