import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { DecryptRequest as _sidekey_v1_DecryptRequest, DecryptRequest__Output as _sidekey_v1_DecryptRequest__Output } from './sidekey/v1/DecryptRequest.js';
import type { DecryptResponse as _sidekey_v1_DecryptResponse, DecryptResponse__Output as _sidekey_v1_DecryptResponse__Output } from './sidekey/v1/DecryptResponse.js';
import type { DecryptResult as _sidekey_v1_DecryptResult, DecryptResult__Output as _sidekey_v1_DecryptResult__Output } from './sidekey/v1/DecryptResult.js';
import type { DeleteTokensRequest as _sidekey_v1_DeleteTokensRequest, DeleteTokensRequest__Output as _sidekey_v1_DeleteTokensRequest__Output } from './sidekey/v1/DeleteTokensRequest.js';
import type { DeleteTokensResponse as _sidekey_v1_DeleteTokensResponse, DeleteTokensResponse__Output as _sidekey_v1_DeleteTokensResponse__Output } from './sidekey/v1/DeleteTokensResponse.js';
import type { DetokenizeRequest as _sidekey_v1_DetokenizeRequest, DetokenizeRequest__Output as _sidekey_v1_DetokenizeRequest__Output } from './sidekey/v1/DetokenizeRequest.js';
import type { DetokenizeResponse as _sidekey_v1_DetokenizeResponse, DetokenizeResponse__Output as _sidekey_v1_DetokenizeResponse__Output } from './sidekey/v1/DetokenizeResponse.js';
import type { DetokenizeResult as _sidekey_v1_DetokenizeResult, DetokenizeResult__Output as _sidekey_v1_DetokenizeResult__Output } from './sidekey/v1/DetokenizeResult.js';
import type { EncryptRequest as _sidekey_v1_EncryptRequest, EncryptRequest__Output as _sidekey_v1_EncryptRequest__Output } from './sidekey/v1/EncryptRequest.js';
import type { EncryptResponse as _sidekey_v1_EncryptResponse, EncryptResponse__Output as _sidekey_v1_EncryptResponse__Output } from './sidekey/v1/EncryptResponse.js';
import type { Error as _sidekey_v1_Error, Error__Output as _sidekey_v1_Error__Output } from './sidekey/v1/Error.js';
import type { ErrorResponse as _sidekey_v1_ErrorResponse, ErrorResponse__Output as _sidekey_v1_ErrorResponse__Output } from './sidekey/v1/ErrorResponse.js';
import type { ForgetSubjectsRequest as _sidekey_v1_ForgetSubjectsRequest, ForgetSubjectsRequest__Output as _sidekey_v1_ForgetSubjectsRequest__Output } from './sidekey/v1/ForgetSubjectsRequest.js';
import type { ForgetSubjectsResponse as _sidekey_v1_ForgetSubjectsResponse, ForgetSubjectsResponse__Output as _sidekey_v1_ForgetSubjectsResponse__Output } from './sidekey/v1/ForgetSubjectsResponse.js';
import type { GetIngestKeysRequest as _sidekey_v1_GetIngestKeysRequest, GetIngestKeysRequest__Output as _sidekey_v1_GetIngestKeysRequest__Output } from './sidekey/v1/GetIngestKeysRequest.js';
import type { GetIngestKeysResponse as _sidekey_v1_GetIngestKeysResponse, GetIngestKeysResponse__Output as _sidekey_v1_GetIngestKeysResponse__Output } from './sidekey/v1/GetIngestKeysResponse.js';
import type { IngestKey as _sidekey_v1_IngestKey, IngestKey__Output as _sidekey_v1_IngestKey__Output } from './sidekey/v1/IngestKey.js';
import type { SidekeyClient as _sidekey_v1_SidekeyClient, SidekeyDefinition as _sidekey_v1_SidekeyDefinition } from './sidekey/v1/Sidekey.js';
import type { TokenizeRequest as _sidekey_v1_TokenizeRequest, TokenizeRequest__Output as _sidekey_v1_TokenizeRequest__Output } from './sidekey/v1/TokenizeRequest.js';
import type { TokenizeResponse as _sidekey_v1_TokenizeResponse, TokenizeResponse__Output as _sidekey_v1_TokenizeResponse__Output } from './sidekey/v1/TokenizeResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  sidekey: {
    v1: {
      DecryptRequest: MessageTypeDefinition<_sidekey_v1_DecryptRequest, _sidekey_v1_DecryptRequest__Output>
      DecryptResponse: MessageTypeDefinition<_sidekey_v1_DecryptResponse, _sidekey_v1_DecryptResponse__Output>
      DecryptResult: MessageTypeDefinition<_sidekey_v1_DecryptResult, _sidekey_v1_DecryptResult__Output>
      DeleteTokensRequest: MessageTypeDefinition<_sidekey_v1_DeleteTokensRequest, _sidekey_v1_DeleteTokensRequest__Output>
      DeleteTokensResponse: MessageTypeDefinition<_sidekey_v1_DeleteTokensResponse, _sidekey_v1_DeleteTokensResponse__Output>
      DetokenizeRequest: MessageTypeDefinition<_sidekey_v1_DetokenizeRequest, _sidekey_v1_DetokenizeRequest__Output>
      DetokenizeResponse: MessageTypeDefinition<_sidekey_v1_DetokenizeResponse, _sidekey_v1_DetokenizeResponse__Output>
      DetokenizeResult: MessageTypeDefinition<_sidekey_v1_DetokenizeResult, _sidekey_v1_DetokenizeResult__Output>
      EncryptRequest: MessageTypeDefinition<_sidekey_v1_EncryptRequest, _sidekey_v1_EncryptRequest__Output>
      EncryptResponse: MessageTypeDefinition<_sidekey_v1_EncryptResponse, _sidekey_v1_EncryptResponse__Output>
      Error: MessageTypeDefinition<_sidekey_v1_Error, _sidekey_v1_Error__Output>
      ErrorResponse: MessageTypeDefinition<_sidekey_v1_ErrorResponse, _sidekey_v1_ErrorResponse__Output>
      ForgetSubjectsRequest: MessageTypeDefinition<_sidekey_v1_ForgetSubjectsRequest, _sidekey_v1_ForgetSubjectsRequest__Output>
      ForgetSubjectsResponse: MessageTypeDefinition<_sidekey_v1_ForgetSubjectsResponse, _sidekey_v1_ForgetSubjectsResponse__Output>
      GetIngestKeysRequest: MessageTypeDefinition<_sidekey_v1_GetIngestKeysRequest, _sidekey_v1_GetIngestKeysRequest__Output>
      GetIngestKeysResponse: MessageTypeDefinition<_sidekey_v1_GetIngestKeysResponse, _sidekey_v1_GetIngestKeysResponse__Output>
      IngestKey: MessageTypeDefinition<_sidekey_v1_IngestKey, _sidekey_v1_IngestKey__Output>
      /**
       * Tokenization and field encryption for one tenant per call.
       */
      Sidekey: SubtypeConstructor<typeof grpc.Client, _sidekey_v1_SidekeyClient> & { service: _sidekey_v1_SidekeyDefinition }
      TokenizeRequest: MessageTypeDefinition<_sidekey_v1_TokenizeRequest, _sidekey_v1_TokenizeRequest__Output>
      TokenizeResponse: MessageTypeDefinition<_sidekey_v1_TokenizeResponse, _sidekey_v1_TokenizeResponse__Output>
    }
  }
}

