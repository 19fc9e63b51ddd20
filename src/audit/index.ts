export { AuditBacklogFullError, Auditor, type AuditorDeps, type AuditSink } from './auditor.js';
export { ChainHead, chainHash, GENESIS_HASH } from './chain.js';
// Audit at scale (issue 19): export, file verification, prune, partitions.
export { parseCut } from './cut.js';
export { type AuditEvent, eventText } from './event.js';
export { ExportFileExistsError, type ExportResult, exportAudit } from './export.js';
export { type ExportVerdict, verifyExportFile } from './export-verify.js';
export {
  PARTITION_DAYS_AHEAD,
  rollAuditPartitions,
  startPartitionRoller,
  utcDay,
} from './partition-roller.js';
export {
  completePrune,
  executePrune,
  type PrunePlan,
  PruneRefusedError,
  type PruneResult,
  planAuditPrune,
  planPrune,
} from './prune.js';
export { AuditSpool, type AuditSpoolOptions, SPOOL_DIR, SPOOL_SHIP_DELAY_MS } from './spool.js';
export { type ChainReport, ChainVerifier, verifyAuditChains } from './verify.js';
