/**
 * Loads the public contract (proto/sidekey/v1/sidekey.proto) and the standard
 * health service for the server and for reflection. The .proto is read at
 * run time from the package root, so it is found from the sources (tsx) and
 * from the build (dist/src/...) alike.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSync, type Options, type PackageDefinition } from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type { SidekeyDefinition } from './generated/sidekey/v1/Sidekey.js';

/** The contract's file name, relative to its include directory (as reflection reports it). */
export const SIDEKEY_PROTO = 'sidekey/v1/sidekey.proto';
export const SIDEKEY_SERVICE = 'sidekey.v1.Sidekey';

/**
 * Decoding options. The `proto:gen` script passes the same choices to
 * proto-loader-gen-types (--keepCase --longs=String --enums=String
 * --defaults --oneofs), so the generated types describe exactly what
 * this loader produces; change both together.
 */
export const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

/** The directory holding `proto/`: the nearest ancestor of this module that has it. */
export function protoRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'proto', SIDEKEY_PROTO))) return join(dir, 'proto');
    if (dirname(dir) === dir) throw new Error(`cannot find proto/${SIDEKEY_PROTO} above ${from}`);
  }
}

export interface LoadedContract {
  /** Both files (sidekey and grpc.health.v1), for the reflection service. */
  readonly packageDefinition: PackageDefinition;
  readonly sidekey: SidekeyDefinition;
}

export function loadContract(): LoadedContract {
  const healthInclude = dirname(dirname(dirname(healthProtoPath)));
  const packageDefinition = loadSync([SIDEKEY_PROTO, 'health/v1/health.proto'], {
    ...LOADER_OPTIONS,
    includeDirs: [protoRoot(), healthInclude],
  });
  const sidekey = packageDefinition[SIDEKEY_SERVICE];
  if (sidekey === undefined) throw new Error(`${SIDEKEY_PROTO} does not define ${SIDEKEY_SERVICE}`);
  return { packageDefinition, sidekey: sidekey as unknown as SidekeyDefinition };
}
