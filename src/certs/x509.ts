/**
 * Small X.509 helpers for development and test PKI (`sidekey certs dev`):
 * a CA, and server or client certificates issued by it, with the validity,
 * names and CN chosen by the caller.
 *
 * Keys are RSA-2048 made by Node's native crypto (node-forge's pure-JS key
 * generation takes seconds); node-forge (≥ 1.4.0) only builds and signs the
 * certificates. Nothing here is meant for production PKI: use your own CA or
 * cert-manager there.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import forge from 'node-forge';

export interface PemPair {
  /** PEM certificate. */
  readonly cert: string;
  /** PEM private key (PKCS#8). Keep it 0600. */
  readonly key: string;
}

export interface Validity {
  /** Default: now minus five minutes (clock skew). */
  readonly notBefore?: Date;
  /** Default: `notBefore` + `days`. */
  readonly notAfter?: Date;
  /** Default 365. */
  readonly days?: number;
}

export interface IssueOptions extends Validity {
  readonly commonName: string;
  /** `server`: serverAuth with subjectAltNames; `client`: clientAuth (CN = PostgreSQL role). */
  readonly usage: 'server' | 'client';
  /** DNS names and IP addresses for subjectAltName (either kind in one list). */
  readonly altNames?: readonly string[];
}

const DAY_MS = 86_400_000;

function newKeyPair(): { forgePublic: forge.pki.rsa.PublicKey; privatePem: string } {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    forgePublic: forge.pki.publicKeyFromPem(publicKey) as forge.pki.rsa.PublicKey,
    privatePem: privateKey,
  };
}

function serialNumber(): string {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x01; // positive, and no leading zero byte
  return b.toString('hex');
}

function applyValidity(cert: forge.pki.Certificate, v: Validity): void {
  const notBefore = v.notBefore ?? new Date(Date.now() - 5 * 60_000);
  const notAfter = v.notAfter ?? new Date(notBefore.getTime() + (v.days ?? 365) * DAY_MS);
  if (notAfter.getTime() <= notBefore.getTime())
    throw new RangeError('notAfter must be later than notBefore');
  cert.validity.notBefore = notBefore;
  cert.validity.notAfter = notAfter;
}

export function createCertificateAuthority(opts: Validity & { readonly commonName: string }): PemPair {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = serialNumber();
  applyValidity(cert, { days: 3650, ...opts });
  const subject = [{ name: 'commonName', value: opts.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', cA: true, pathLenConstraint: 0, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keys.privatePem), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.privatePem };
}

export function issueCertificate(ca: PemPair, opts: IssueOptions): PemPair {
  const caCert = forge.pki.certificateFromPem(ca.cert);
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.forgePublic;
  cert.serialNumber = serialNumber();
  applyValidity(cert, opts);
  cert.setSubject([{ name: 'commonName', value: opts.commonName }]);
  cert.setIssuer(caCert.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    opts.usage === 'server'
      ? { name: 'extKeyUsage', serverAuth: true }
      : { name: 'extKeyUsage', clientAuth: true },
    { name: 'subjectKeyIdentifier' },
    { name: 'authorityKeyIdentifier', keyIdentifier: caCert.generateSubjectKeyIdentifier().getBytes() },
  ];
  const altNames = opts.altNames ?? [];
  if (altNames.length > 0) {
    extensions.push({
      name: 'subjectAltName',
      altNames: altNames.map((n) => (isIP(n) === 0 ? { type: 2, value: n } : { type: 7, ip: n })),
    });
  }
  cert.setExtensions(extensions);
  cert.sign(forge.pki.privateKeyFromPem(ca.key), forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: keys.privatePem };
}
