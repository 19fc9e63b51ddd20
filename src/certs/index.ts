export {
  DEFAULT_OPERATOR_ROLE,
  DEFAULT_SIDECAR_ROLE,
  DEV_CA_NAME,
  type DevCerts,
  type DevCertsOptions,
  generateDevCerts,
  runCertsDev,
  SERVER_ALT_NAMES,
} from './dev-certs.js';
export {
  createCertificateAuthority,
  type IssueOptions,
  issueCertificate,
  type PemPair,
  type Validity,
} from './x509.js';
