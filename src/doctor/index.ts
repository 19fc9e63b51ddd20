export type { CheckResult, CheckStatus } from './check.js';
export { runDoctor } from './doctor.js';
