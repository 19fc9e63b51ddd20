// Original file: proto/sidekey/v1/sidekey.proto

import type { DetokenizeResult as _sidekey_v1_DetokenizeResult, DetokenizeResult__Output as _sidekey_v1_DetokenizeResult__Output } from '../../sidekey/v1/DetokenizeResult.js';

export interface DetokenizeResponse {
  /**
   * One result for each token, in the same order.
   */
  'results'?: (_sidekey_v1_DetokenizeResult)[];
}

export interface DetokenizeResponse__Output {
  /**
   * One result for each token, in the same order.
   */
  'results': (_sidekey_v1_DetokenizeResult__Output)[];
}
