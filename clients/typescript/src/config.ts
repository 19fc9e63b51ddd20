/**
 * Where the daemon is and which ORK to send, from options or the
 * environment the sidekey injector sets (SIDEKEY_URL, SIDEKEY_GRPC_SOCKET)
 * and the ORK from SIDEKEY_ORK_FILE or SIDEKEY_ORK.
 */
import { readFileSync } from 'node:fs';
import { SidekeyConfigError } from './errors.js';
import type { RetryOptions } from './retry.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface ClientOptions {
  /** The ORK string. Default: the content of SIDEKEY_ORK_FILE, else SIDEKEY_ORK. */
  readonly ork?: string;
  /** `Authorization: Bearer` token, when the daemon has SIDEKEY_CLIENT_TOKEN_FILE. */
  readonly clientToken?: string;
  readonly retry?: RetryOptions;
  /** Where SIDEKEY_* are read from; default process.env. */
  readonly env?: Env;
}

export const DEFAULT_URL = 'http://127.0.0.1:7600';

/**
 * The ORK: the option, else the file SIDEKEY_ORK_FILE names, else SIDEKEY_ORK.
 * Leading and trailing whitespace is removed (as the sidekey CLI does with
 * ORK files: `ork issue > file` ends it with a newline).
 */
export function resolveOrk(options: ClientOptions, env: Env): string {
  let ork = options.ork;
  if (ork === undefined && env.SIDEKEY_ORK_FILE) {
    try {
      ork = readFileSync(env.SIDEKEY_ORK_FILE, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new SidekeyConfigError(`cannot read SIDEKEY_ORK_FILE ${env.SIDEKEY_ORK_FILE}: ${code}`);
    }
  }
  ork ??= env.SIDEKEY_ORK;
  const trimmed = ork?.trim();
  if (trimmed === undefined || trimmed === '') {
    throw new SidekeyConfigError('no ORK: pass `ork`, or set SIDEKEY_ORK_FILE or SIDEKEY_ORK');
  }
  return trimmed;
}
