/**
 * What the sidecar role may do, and nothing more. `sidekey migrate` (run as
 * the operator role, which owns the tables) applies this after the
 * migrations. Sidecars read keys and ORK records, insert/read/delete tokens,
 * append audit events and keep their own row of the fleet registry; creating tenants, issuing or revoking ORKs,
 * rotating keys and any DDL stay with the operator role.
 *
 * The statements first revoke everything on sidekey's tables, so running it
 * again (or after a role had more) leaves exactly this set.
 */

/** PostgreSQL role names sidekey accepts: plain lower-case identifiers. */
const ROLE = /^[a-z_][a-z0-9_]{0,62}$/;

export const SIDEKEY_TABLES = [
  'sidekey_schema_migrations',
  'sidekey_tenants',
  'sidekey_tenant_keys',
  'sidekey_orks',
  'sidekey_tokens',
  'sidekey_audit_chains',
  'sidekey_audit_events',
  'sidekey_field_policies',
  'sidekey_token_keys',
  'sidekey_sidecars',
  'sidekey_changes',
  'sidekey_subject_keys',
  'sidekey_ingest_keys',
  // Audit at scale (migration 8, issue 19).
  'sidekey_audit_log',
  'sidekey_audit_log_default',
  'sidekey_audit_anchors',
  'sidekey_audit_exports',
  'sidekey_audit_export_chains',
  'sidekey_audit_prunes',
] as const;

export type SidekeyTable = (typeof SIDEKEY_TABLES)[number];

/** The sidecar role's privileges, table by table. */
export const SIDECAR_PRIVILEGES: Readonly<Record<SidekeyTable, readonly string[]>> = {
  sidekey_schema_migrations: ['select'],
  sidekey_tenants: ['select'],
  sidekey_tenant_keys: ['select'],
  sidekey_orks: ['select'],
  sidekey_tokens: ['select', 'insert', 'delete'],
  sidekey_audit_chains: ['select', 'insert'],
  sidekey_audit_events: ['select', 'insert'],
  sidekey_field_policies: ['select'],
  sidekey_token_keys: ['select'],
  // The fleet registry: each sidecar inserts its row and updates it (last
  // seen, the newest change applied); only operators number changes.
  sidekey_sidecars: ['select', 'insert', 'update'],
  sidekey_changes: ['select'],
  // Data subjects (issue 13): a sidecar creates a subject's key on first use
  // and `forget` overwrites then deletes it; a subject's token insert locks
  // the key row (FOR SHARE needs UPDATE) so a forget cannot slip between.
  sidekey_subject_keys: ['select', 'insert', 'update', 'delete'],
  // A sidecar creates a tenant's first ingest key pairs on first use;
  // rotating and destroying them stays with the operator.
  sidekey_ingest_keys: ['select', 'insert'],
  // Sidecars append audit events through the partitioned parent (partitions
  // need no grant of their own); export, prune and their records are the
  // operator's. Partitions are created ahead by calling the security-definer
  // function sidekey_audit_roll_forward (SIDECAR_FUNCTIONS), never by DDL.
  sidekey_audit_log: ['select', 'insert'],
  sidekey_audit_log_default: [],
  sidekey_audit_anchors: [],
  sidekey_audit_exports: [],
  sidekey_audit_export_chains: [],
  sidekey_audit_prunes: [],
};

/** Functions the sidecar role may execute (migration 8 revokes them from PUBLIC). */
export const SIDECAR_FUNCTIONS = ['sidekey_audit_roll_forward(date, integer)'] as const;

export function isValidRoleName(role: string): boolean {
  return ROLE.test(role);
}

/** Quotes a validated role name; throws on anything that is not a plain identifier. */
export function quoteRole(role: string): string {
  if (!isValidRoleName(role)) {
    throw new Error(
      `invalid role name ${JSON.stringify(role.slice(0, 64))}: use lower-case letters, digits and _ (at most 63, not starting with a digit)`,
    );
  }
  return `"${role}"`;
}

/** SQL (several statements, no parameters) granting `role` exactly the sidecar's privileges. */
export function sidecarGrants(role: string): string {
  const r = quoteRole(role);
  const lines = [`revoke all on ${SIDEKEY_TABLES.join(', ')} from ${r};`];
  for (const table of SIDEKEY_TABLES) {
    const privileges = SIDECAR_PRIVILEGES[table];
    if (privileges.length > 0) lines.push(`grant ${privileges.join(', ')} on ${table} to ${r};`);
  }
  for (const fn of SIDECAR_FUNCTIONS) {
    lines.push(`revoke all on function ${fn} from ${r};`, `grant execute on function ${fn} to ${r};`);
  }
  return `${lines.join('\n')}\n`;
}
