export { HealthChecker, type Readiness } from './health.js';
export {
  type AuditLines,
  createLoggers,
  describeError,
  type Logger,
  type Loggers,
  stderrDestination,
} from './logger.js';
export { Metrics } from './metrics.js';
