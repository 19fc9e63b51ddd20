// Original file: proto/sidekey/v1/sidekey.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { DecryptRequest as _sidekey_v1_DecryptRequest, DecryptRequest__Output as _sidekey_v1_DecryptRequest__Output } from '../../sidekey/v1/DecryptRequest.js';
import type { DecryptResponse as _sidekey_v1_DecryptResponse, DecryptResponse__Output as _sidekey_v1_DecryptResponse__Output } from '../../sidekey/v1/DecryptResponse.js';
import type { DeleteTokensRequest as _sidekey_v1_DeleteTokensRequest, DeleteTokensRequest__Output as _sidekey_v1_DeleteTokensRequest__Output } from '../../sidekey/v1/DeleteTokensRequest.js';
import type { DeleteTokensResponse as _sidekey_v1_DeleteTokensResponse, DeleteTokensResponse__Output as _sidekey_v1_DeleteTokensResponse__Output } from '../../sidekey/v1/DeleteTokensResponse.js';
import type { DetokenizeRequest as _sidekey_v1_DetokenizeRequest, DetokenizeRequest__Output as _sidekey_v1_DetokenizeRequest__Output } from '../../sidekey/v1/DetokenizeRequest.js';
import type { DetokenizeResponse as _sidekey_v1_DetokenizeResponse, DetokenizeResponse__Output as _sidekey_v1_DetokenizeResponse__Output } from '../../sidekey/v1/DetokenizeResponse.js';
import type { EncryptRequest as _sidekey_v1_EncryptRequest, EncryptRequest__Output as _sidekey_v1_EncryptRequest__Output } from '../../sidekey/v1/EncryptRequest.js';
import type { EncryptResponse as _sidekey_v1_EncryptResponse, EncryptResponse__Output as _sidekey_v1_EncryptResponse__Output } from '../../sidekey/v1/EncryptResponse.js';
import type { ForgetSubjectsRequest as _sidekey_v1_ForgetSubjectsRequest, ForgetSubjectsRequest__Output as _sidekey_v1_ForgetSubjectsRequest__Output } from '../../sidekey/v1/ForgetSubjectsRequest.js';
import type { ForgetSubjectsResponse as _sidekey_v1_ForgetSubjectsResponse, ForgetSubjectsResponse__Output as _sidekey_v1_ForgetSubjectsResponse__Output } from '../../sidekey/v1/ForgetSubjectsResponse.js';
import type { GetIngestKeysRequest as _sidekey_v1_GetIngestKeysRequest, GetIngestKeysRequest__Output as _sidekey_v1_GetIngestKeysRequest__Output } from '../../sidekey/v1/GetIngestKeysRequest.js';
import type { GetIngestKeysResponse as _sidekey_v1_GetIngestKeysResponse, GetIngestKeysResponse__Output as _sidekey_v1_GetIngestKeysResponse__Output } from '../../sidekey/v1/GetIngestKeysResponse.js';
import type { TokenizeRequest as _sidekey_v1_TokenizeRequest, TokenizeRequest__Output as _sidekey_v1_TokenizeRequest__Output } from '../../sidekey/v1/TokenizeRequest.js';
import type { TokenizeResponse as _sidekey_v1_TokenizeResponse, TokenizeResponse__Output as _sidekey_v1_TokenizeResponse__Output } from '../../sidekey/v1/TokenizeResponse.js';

/**
 * Tokenization and field encryption for one tenant per call.
 */
export interface SidekeyClient extends grpc.Client {
  /**
   * Decrypts each ciphertext made by Encrypt, or returns a per-item error.
   */
  Decrypt(argument: _sidekey_v1_DecryptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_DecryptResponse__Output>): grpc.ClientUnaryCall;
  Decrypt(argument: _sidekey_v1_DecryptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_DecryptResponse__Output>): grpc.ClientUnaryCall;
  Decrypt(argument: _sidekey_v1_DecryptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_DecryptResponse__Output>): grpc.ClientUnaryCall;
  Decrypt(argument: _sidekey_v1_DecryptRequest, callback: grpc.requestCallback<_sidekey_v1_DecryptResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Decrypts each ciphertext made by Encrypt, or returns a per-item error.
   */
  decrypt(argument: _sidekey_v1_DecryptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_DecryptResponse__Output>): grpc.ClientUnaryCall;
  decrypt(argument: _sidekey_v1_DecryptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_DecryptResponse__Output>): grpc.ClientUnaryCall;
  decrypt(argument: _sidekey_v1_DecryptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_DecryptResponse__Output>): grpc.ClientUnaryCall;
  decrypt(argument: _sidekey_v1_DecryptRequest, callback: grpc.requestCallback<_sidekey_v1_DecryptResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Deletes the caller's tokens; tokens that are not the caller's are ignored.
   */
  DeleteTokens(argument: _sidekey_v1_DeleteTokensRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_DeleteTokensResponse__Output>): grpc.ClientUnaryCall;
  DeleteTokens(argument: _sidekey_v1_DeleteTokensRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_DeleteTokensResponse__Output>): grpc.ClientUnaryCall;
  DeleteTokens(argument: _sidekey_v1_DeleteTokensRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_DeleteTokensResponse__Output>): grpc.ClientUnaryCall;
  DeleteTokens(argument: _sidekey_v1_DeleteTokensRequest, callback: grpc.requestCallback<_sidekey_v1_DeleteTokensResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Deletes the caller's tokens; tokens that are not the caller's are ignored.
   */
  deleteTokens(argument: _sidekey_v1_DeleteTokensRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_DeleteTokensResponse__Output>): grpc.ClientUnaryCall;
  deleteTokens(argument: _sidekey_v1_DeleteTokensRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_DeleteTokensResponse__Output>): grpc.ClientUnaryCall;
  deleteTokens(argument: _sidekey_v1_DeleteTokensRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_DeleteTokensResponse__Output>): grpc.ClientUnaryCall;
  deleteTokens(argument: _sidekey_v1_DeleteTokensRequest, callback: grpc.requestCallback<_sidekey_v1_DeleteTokensResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Returns the value of each token, or a per-item error. Tokens of another
   * tenant or ORK, deleted, expired and unknown tokens all get the same
   * NOT_FOUND item error.
   */
  Detokenize(argument: _sidekey_v1_DetokenizeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_DetokenizeResponse__Output>): grpc.ClientUnaryCall;
  Detokenize(argument: _sidekey_v1_DetokenizeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_DetokenizeResponse__Output>): grpc.ClientUnaryCall;
  Detokenize(argument: _sidekey_v1_DetokenizeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_DetokenizeResponse__Output>): grpc.ClientUnaryCall;
  Detokenize(argument: _sidekey_v1_DetokenizeRequest, callback: grpc.requestCallback<_sidekey_v1_DetokenizeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Returns the value of each token, or a per-item error. Tokens of another
   * tenant or ORK, deleted, expired and unknown tokens all get the same
   * NOT_FOUND item error.
   */
  detokenize(argument: _sidekey_v1_DetokenizeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_DetokenizeResponse__Output>): grpc.ClientUnaryCall;
  detokenize(argument: _sidekey_v1_DetokenizeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_DetokenizeResponse__Output>): grpc.ClientUnaryCall;
  detokenize(argument: _sidekey_v1_DetokenizeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_DetokenizeResponse__Output>): grpc.ClientUnaryCall;
  detokenize(argument: _sidekey_v1_DetokenizeRequest, callback: grpc.requestCallback<_sidekey_v1_DetokenizeResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Encrypts each plaintext; nothing is stored. All-or-nothing like Tokenize.
   */
  Encrypt(argument: _sidekey_v1_EncryptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_EncryptResponse__Output>): grpc.ClientUnaryCall;
  Encrypt(argument: _sidekey_v1_EncryptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_EncryptResponse__Output>): grpc.ClientUnaryCall;
  Encrypt(argument: _sidekey_v1_EncryptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_EncryptResponse__Output>): grpc.ClientUnaryCall;
  Encrypt(argument: _sidekey_v1_EncryptRequest, callback: grpc.requestCallback<_sidekey_v1_EncryptResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Encrypts each plaintext; nothing is stored. All-or-nothing like Tokenize.
   */
  encrypt(argument: _sidekey_v1_EncryptRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_EncryptResponse__Output>): grpc.ClientUnaryCall;
  encrypt(argument: _sidekey_v1_EncryptRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_EncryptResponse__Output>): grpc.ClientUnaryCall;
  encrypt(argument: _sidekey_v1_EncryptRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_EncryptResponse__Output>): grpc.ClientUnaryCall;
  encrypt(argument: _sidekey_v1_EncryptRequest, callback: grpc.requestCallback<_sidekey_v1_EncryptResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Destroys the keys of data subjects (v1.1): every token and ciphertext
   * made with one of these subjects then answers the per-item error
   * FAILED_PRECONDITION, on every sidecar within seconds. Idempotent: an
   * unknown or already forgotten subject counts 0. Needs an ORK with
   * `forget` in its scope.
   */
  ForgetSubjects(argument: _sidekey_v1_ForgetSubjectsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_ForgetSubjectsResponse__Output>): grpc.ClientUnaryCall;
  ForgetSubjects(argument: _sidekey_v1_ForgetSubjectsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_ForgetSubjectsResponse__Output>): grpc.ClientUnaryCall;
  ForgetSubjects(argument: _sidekey_v1_ForgetSubjectsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_ForgetSubjectsResponse__Output>): grpc.ClientUnaryCall;
  ForgetSubjects(argument: _sidekey_v1_ForgetSubjectsRequest, callback: grpc.requestCallback<_sidekey_v1_ForgetSubjectsResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Destroys the keys of data subjects (v1.1): every token and ciphertext
   * made with one of these subjects then answers the per-item error
   * FAILED_PRECONDITION, on every sidecar within seconds. Idempotent: an
   * unknown or already forgotten subject counts 0. Needs an ORK with
   * `forget` in its scope.
   */
  forgetSubjects(argument: _sidekey_v1_ForgetSubjectsRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_ForgetSubjectsResponse__Output>): grpc.ClientUnaryCall;
  forgetSubjects(argument: _sidekey_v1_ForgetSubjectsRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_ForgetSubjectsResponse__Output>): grpc.ClientUnaryCall;
  forgetSubjects(argument: _sidekey_v1_ForgetSubjectsRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_ForgetSubjectsResponse__Output>): grpc.ClientUnaryCall;
  forgetSubjects(argument: _sidekey_v1_ForgetSubjectsRequest, callback: grpc.requestCallback<_sidekey_v1_ForgetSubjectsResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The tenant's current ingest public keys (v1.1, end-to-end encrypted
   * ingest): what a browser or app seals values to (HPKE, RFC 9180 base
   * mode). HTTP: POST /v1/ingest/keys.
   */
  GetIngestKeys(argument: _sidekey_v1_GetIngestKeysRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_GetIngestKeysResponse__Output>): grpc.ClientUnaryCall;
  GetIngestKeys(argument: _sidekey_v1_GetIngestKeysRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_GetIngestKeysResponse__Output>): grpc.ClientUnaryCall;
  GetIngestKeys(argument: _sidekey_v1_GetIngestKeysRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_GetIngestKeysResponse__Output>): grpc.ClientUnaryCall;
  GetIngestKeys(argument: _sidekey_v1_GetIngestKeysRequest, callback: grpc.requestCallback<_sidekey_v1_GetIngestKeysResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The tenant's current ingest public keys (v1.1, end-to-end encrypted
   * ingest): what a browser or app seals values to (HPKE, RFC 9180 base
   * mode). HTTP: POST /v1/ingest/keys.
   */
  getIngestKeys(argument: _sidekey_v1_GetIngestKeysRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_GetIngestKeysResponse__Output>): grpc.ClientUnaryCall;
  getIngestKeys(argument: _sidekey_v1_GetIngestKeysRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_GetIngestKeysResponse__Output>): grpc.ClientUnaryCall;
  getIngestKeys(argument: _sidekey_v1_GetIngestKeysRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_GetIngestKeysResponse__Output>): grpc.ClientUnaryCall;
  getIngestKeys(argument: _sidekey_v1_GetIngestKeysRequest, callback: grpc.requestCallback<_sidekey_v1_GetIngestKeysResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Replaces each value with a random token and stores the value encrypted.
   * All-or-nothing: one invalid item fails the call (INVALID_ARGUMENT naming
   * its index) and nothing is stored. When the call returns, every token it
   * returned is durable.
   */
  Tokenize(argument: _sidekey_v1_TokenizeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  Tokenize(argument: _sidekey_v1_TokenizeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  Tokenize(argument: _sidekey_v1_TokenizeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  Tokenize(argument: _sidekey_v1_TokenizeRequest, callback: grpc.requestCallback<_sidekey_v1_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Replaces each value with a random token and stores the value encrypted.
   * All-or-nothing: one invalid item fails the call (INVALID_ARGUMENT naming
   * its index) and nothing is stored. When the call returns, every token it
   * returned is durable.
   */
  tokenize(argument: _sidekey_v1_TokenizeRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  tokenize(argument: _sidekey_v1_TokenizeRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_sidekey_v1_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  tokenize(argument: _sidekey_v1_TokenizeRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_sidekey_v1_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  tokenize(argument: _sidekey_v1_TokenizeRequest, callback: grpc.requestCallback<_sidekey_v1_TokenizeResponse__Output>): grpc.ClientUnaryCall;
  
}

/**
 * Tokenization and field encryption for one tenant per call.
 */
export interface SidekeyHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Decrypts each ciphertext made by Encrypt, or returns a per-item error.
   */
  Decrypt: grpc.handleUnaryCall<_sidekey_v1_DecryptRequest__Output, _sidekey_v1_DecryptResponse>;
  
  /**
   * Deletes the caller's tokens; tokens that are not the caller's are ignored.
   */
  DeleteTokens: grpc.handleUnaryCall<_sidekey_v1_DeleteTokensRequest__Output, _sidekey_v1_DeleteTokensResponse>;
  
  /**
   * Returns the value of each token, or a per-item error. Tokens of another
   * tenant or ORK, deleted, expired and unknown tokens all get the same
   * NOT_FOUND item error.
   */
  Detokenize: grpc.handleUnaryCall<_sidekey_v1_DetokenizeRequest__Output, _sidekey_v1_DetokenizeResponse>;
  
  /**
   * Encrypts each plaintext; nothing is stored. All-or-nothing like Tokenize.
   */
  Encrypt: grpc.handleUnaryCall<_sidekey_v1_EncryptRequest__Output, _sidekey_v1_EncryptResponse>;
  
  /**
   * Destroys the keys of data subjects (v1.1): every token and ciphertext
   * made with one of these subjects then answers the per-item error
   * FAILED_PRECONDITION, on every sidecar within seconds. Idempotent: an
   * unknown or already forgotten subject counts 0. Needs an ORK with
   * `forget` in its scope.
   */
  ForgetSubjects: grpc.handleUnaryCall<_sidekey_v1_ForgetSubjectsRequest__Output, _sidekey_v1_ForgetSubjectsResponse>;
  
  /**
   * The tenant's current ingest public keys (v1.1, end-to-end encrypted
   * ingest): what a browser or app seals values to (HPKE, RFC 9180 base
   * mode). HTTP: POST /v1/ingest/keys.
   */
  GetIngestKeys: grpc.handleUnaryCall<_sidekey_v1_GetIngestKeysRequest__Output, _sidekey_v1_GetIngestKeysResponse>;
  
  /**
   * Replaces each value with a random token and stores the value encrypted.
   * All-or-nothing: one invalid item fails the call (INVALID_ARGUMENT naming
   * its index) and nothing is stored. When the call returns, every token it
   * returned is durable.
   */
  Tokenize: grpc.handleUnaryCall<_sidekey_v1_TokenizeRequest__Output, _sidekey_v1_TokenizeResponse>;
  
}

export interface SidekeyDefinition extends grpc.ServiceDefinition {
  Decrypt: MethodDefinition<_sidekey_v1_DecryptRequest, _sidekey_v1_DecryptResponse, _sidekey_v1_DecryptRequest__Output, _sidekey_v1_DecryptResponse__Output>
  DeleteTokens: MethodDefinition<_sidekey_v1_DeleteTokensRequest, _sidekey_v1_DeleteTokensResponse, _sidekey_v1_DeleteTokensRequest__Output, _sidekey_v1_DeleteTokensResponse__Output>
  Detokenize: MethodDefinition<_sidekey_v1_DetokenizeRequest, _sidekey_v1_DetokenizeResponse, _sidekey_v1_DetokenizeRequest__Output, _sidekey_v1_DetokenizeResponse__Output>
  Encrypt: MethodDefinition<_sidekey_v1_EncryptRequest, _sidekey_v1_EncryptResponse, _sidekey_v1_EncryptRequest__Output, _sidekey_v1_EncryptResponse__Output>
  ForgetSubjects: MethodDefinition<_sidekey_v1_ForgetSubjectsRequest, _sidekey_v1_ForgetSubjectsResponse, _sidekey_v1_ForgetSubjectsRequest__Output, _sidekey_v1_ForgetSubjectsResponse__Output>
  GetIngestKeys: MethodDefinition<_sidekey_v1_GetIngestKeysRequest, _sidekey_v1_GetIngestKeysResponse, _sidekey_v1_GetIngestKeysRequest__Output, _sidekey_v1_GetIngestKeysResponse__Output>
  Tokenize: MethodDefinition<_sidekey_v1_TokenizeRequest, _sidekey_v1_TokenizeResponse, _sidekey_v1_TokenizeRequest__Output, _sidekey_v1_TokenizeResponse__Output>
}
