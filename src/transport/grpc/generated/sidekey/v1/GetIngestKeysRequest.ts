// Original file: proto/sidekey/v1/sidekey.proto


export interface GetIngestKeysRequest {
  'tenant'?: (string);
}

export interface GetIngestKeysRequest__Output {
  'tenant': (string);
}
