export { AuditBacklogFullError, Auditor, type AuditorDeps, type AuditSink } from './auditor.js';
export { ChainHead, chainHash, GENESIS_HASH } from './chain.js';
export { type AuditEvent, eventText } from './event.js';
export { AuditSpool, type AuditSpoolOptions, SPOOL_DIR, SPOOL_SHIP_DELAY_MS } from './spool.js';
export { type ChainReport, verifyAuditChains } from './verify.js';
