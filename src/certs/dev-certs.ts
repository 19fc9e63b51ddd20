/**
 * `sidekey certs dev --out DIR`: a throwaway PKI for PostgreSQL mutual TLS in
 * development and tests — a CA, a server certificate for localhost /
 * 127.0.0.1 / ::1, and one client certificate per role (CN = role name, which
 * is how `hostssl … cert` maps a certificate to a login). Keys are written
 * 0600 in a 0700 directory; existing files are never overwritten unless asked.
 */
import { chmodSync, existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isValidRoleName } from '../store/grants.js';
import { createCertificateAuthority, issueCertificate, type PemPair } from './x509.js';

export const DEV_CA_NAME = 'sidekey development CA';
export const DEFAULT_SIDECAR_ROLE = 'sidekey';
export const DEFAULT_OPERATOR_ROLE = 'sidekey_ops';
export const SERVER_ALT_NAMES = ['localhost', '127.0.0.1', '::1'] as const;

export interface DevCertsOptions {
  readonly sidecarRole?: string;
  readonly operatorRole?: string;
  /** Validity of the issued certificates. Default 365 (the CA: 10 years). */
  readonly days?: number;
  /** Replace existing files. Default false: refuse, so a CA is never lost by accident. */
  readonly overwrite?: boolean;
}

export interface DevCerts {
  readonly dir: string;
  readonly ca: PemPair;
  readonly files: {
    readonly caCert: string;
    readonly caKey: string;
    readonly serverCert: string;
    readonly serverKey: string;
    /** By role name. */
    readonly clients: Readonly<Record<string, { readonly cert: string; readonly key: string }>>;
  };
  /** Every file written, in order. */
  readonly written: readonly string[];
}

function writeAtomic(path: string, content: string, mode: number): void {
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, content, { mode });
  chmodSync(tmp, mode); // the umask may have narrowed or the file pre-existed
  renameSync(tmp, path);
}

export function generateDevCerts(outDir: string, opts: DevCertsOptions = {}): DevCerts {
  const sidecarRole = opts.sidecarRole ?? DEFAULT_SIDECAR_ROLE;
  const operatorRole = opts.operatorRole ?? DEFAULT_OPERATOR_ROLE;
  for (const role of [sidecarRole, operatorRole]) {
    if (!isValidRoleName(role)) throw new Error(`invalid role name ${JSON.stringify(role)}`);
  }
  if (sidecarRole === operatorRole) throw new Error('the sidecar and operator roles must differ');
  const roles = [sidecarRole, operatorRole];
  const names = ['ca', 'server', ...roles].flatMap((n) => [`${n}.crt`, `${n}.key`]);
  if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true, mode: 0o700 });
  if (opts.overwrite !== true) {
    const present = names.filter((n) => existsSync(join(outDir, n)));
    if (present.length > 0) {
      throw new Error(
        `${outDir} already holds ${present.join(', ')}: choose an empty directory or overwrite explicitly`,
      );
    }
  }

  const ca = createCertificateAuthority({ commonName: DEV_CA_NAME });
  const server = issueCertificate(ca, {
    commonName: 'localhost',
    usage: 'server',
    altNames: SERVER_ALT_NAMES,
    ...(opts.days !== undefined && { days: opts.days }),
  });
  const written: string[] = [];
  const put = (name: string, pair: PemPair) => {
    const cert = join(outDir, `${name}.crt`);
    const key = join(outDir, `${name}.key`);
    writeAtomic(key, pair.key, 0o600);
    writeAtomic(cert, pair.cert, 0o644);
    written.push(cert, key);
    return { cert, key };
  };
  const caFiles = put('ca', ca);
  const serverFiles = put('server', server);
  const clients: Record<string, { cert: string; key: string }> = {};
  for (const role of roles) {
    clients[role] = put(
      role,
      issueCertificate(ca, {
        commonName: role,
        usage: 'client',
        ...(opts.days !== undefined && { days: opts.days }),
      }),
    );
  }
  return {
    dir: outDir,
    ca,
    files: {
      caCert: caFiles.cert,
      caKey: caFiles.key,
      serverCert: serverFiles.cert,
      serverKey: serverFiles.key,
      clients,
    },
    written,
  };
}

/** The CLI entry point: writes the development PKI and returns the paths written. */
export async function runCertsDev(outDir: string, opts: DevCertsOptions = {}): Promise<string[]> {
  return [...generateDevCerts(outDir, opts).written];
}
