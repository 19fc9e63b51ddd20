export {
  CERTIFICATE_EXPIRY_METRIC,
  certificateFileNotAfter,
  certificateNotAfter,
  registerCertificateExpiry,
} from './cert-expiry.js';
export { HealthChecker, type Readiness } from './health.js';
export {
  type AuditLines,
  createLoggers,
  describeError,
  type Logger,
  type Loggers,
  stderrDestination,
} from './logger.js';
export { Metrics, type MetricsSources, REFUSAL_REASONS, type RefusalReason } from './metrics.js';
