export { Auditor, type AuditorDeps, type AuditSink } from './auditor.js';
export { ChainHead, chainHash, GENESIS_HASH } from './chain.js';
export { type AuditEvent, eventText } from './event.js';
export { type ChainReport, verifyAuditChains } from './verify.js';
