/**
 * The schema, as ordered SQL migrations shared by the embedded and postgres
 * stores. Append only: a released migration never changes.
 *
 * Plain SQL with the token as primary key, so the token table can be
 * hash-partitioned or sharded on it (DESIGN.md "Fleet").
 */

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
create table sidekey_tenants (
  tenant      text primary key,
  state       text not null default 'active' check (state in ('active', 'shredded')),
  created_at  timestamptz not null default now()
);

-- Tenant encryption keys, wrapped by a KEK (kek_ref names which).
create table sidekey_tenant_keys (
  tenant      text not null references sidekey_tenants (tenant),
  version     integer not null check (version > 0),
  state       text not null check (state in ('primary', 'active', 'retired', 'destroyed')),
  kek_ref     text not null,
  wrapped_key bytea,
  created_at  timestamptz not null default now(),
  primary key (tenant, version),
  check ((state = 'destroyed') = (wrapped_key is null))
);
create unique index sidekey_one_primary_tek on sidekey_tenant_keys (tenant) where state = 'primary';

-- ORK records: never the key, only its id, label, fingerprint and state.
create table sidekey_orks (
  tenant      text not null references sidekey_tenants (tenant),
  ork_id      text not null,
  label       text not null default '',
  fingerprint text not null,
  state       text not null default 'active' check (state in ('active', 'revoked')),
  created_at  timestamptz not null default now(),
  revoked_at  timestamptz,
  primary key (tenant, ork_id)
);

-- Token records: ciphertext only.
create table sidekey_tokens (
  token       text primary key,
  tenant      text not null,
  field       text not null,
  ork_id      text not null,
  tek_version integer not null,
  envelope    bytea not null,
  created_at  timestamptz not null default now(),
  expires_at  timestamptz
);
create index sidekey_tokens_by_key on sidekey_tokens (tenant, tek_version, ork_id);

-- One audit hash chain per sidecar process; its MAC key is wrapped by the KEK.
create table sidekey_audit_chains (
  chain_id    text primary key,
  kek_ref     text not null,
  wrapped_key bytea not null,
  host        text not null,
  started_at  timestamptz not null default now()
);

create table sidekey_audit_events (
  chain_id    text not null references sidekey_audit_chains (chain_id),
  seq         bigint not null check (seq > 0),
  prev_hash   bytea not null,
  hash        bytea not null,
  event       text not null,
  primary key (chain_id, seq)
);
`,
  },
  {
    version: 2,
    name: 'ORK replacement (ork rotate)',
    // `sidekey ork rotate` records which ORK replaces which before it moves a
    // single record, so an interrupted rotation resumes towards the same new
    // ORK. Only ids: sidekey never stores an ORK. No new table, so the
    // sidecar grants (select on sidekey_orks) are unchanged.
    sql: `
alter table sidekey_orks add column replaced_by text;
alter table sidekey_orks add column replaced_at timestamptz;
`,
  },
  {
    version: 3,
    name: 'field policies and token kinds',
    // Field policies (operators write, sidecars read); one token root key per
    // tenant for deterministic and fpe tokens (wrapped by the KEK, destroyed
    // by shredding: docs/formats.md "Token root key"); an ORK made by `ork
    // rotate` carries its lineage secret sealed under itself (never in
    // clear, never an ORK); records say their kind (`keys status`). Every
    // statement is additive: a v1 fleet keeps serving while it runs.
    sql: `
create table sidekey_field_policies (
  tenant      text not null references sidekey_tenants (tenant),
  field       text not null,
  kind        text not null check (kind in ('random', 'deterministic', 'fpe')),
  alphabet    text,
  keep_prefix integer not null default 0 check (keep_prefix >= 0),
  keep_suffix integer not null default 0 check (keep_suffix >= 0),
  mask        text not null default 'redact' check (mask in ('last4', 'first6last4', 'email', 'redact')),
  ttl_seconds integer check (ttl_seconds > 0),
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now(),
  primary key (tenant, field)
);

create table sidekey_token_keys (
  tenant      text primary key references sidekey_tenants (tenant),
  state       text not null default 'active' check (state in ('active', 'destroyed')),
  kek_ref     text not null,
  wrapped_key bytea,
  created_at  timestamptz not null default now(),
  check ((state = 'destroyed') = (wrapped_key is null))
);

alter table sidekey_orks add column lineage_seal bytea;
alter table sidekey_tokens add column kind text not null default 'random';
`,
  },
  {
    version: 4,
    name: 'fleet registry and acknowledged changes',
    // Version 3 is field policies (issue 11). Each sidecar records itself in
    // sidekey_sidecars (src/fleet/registry.ts) and the newest change it has
    // applied; operator commands number their changes in sidekey_changes and
    // wait for the fleet's acknowledgements (src/fleet/await-applied.ts).
    // Ids, names and times only.
    sql: `
create table sidekey_sidecars (
  sidecar_id        text primary key,
  host              text not null,
  version           text not null,
  tenants           text not null default '',
  started_at        timestamptz not null,
  last_seen         timestamptz not null default now(),
  heartbeat_seconds integer not null check (heartbeat_seconds > 0),
  key_ttl_seconds   integer not null check (key_ttl_seconds > 0),
  applied_change    bigint not null default 0,
  applied_at        timestamptz,
  stopped_at        timestamptz
);
create index sidekey_sidecars_by_last_seen on sidekey_sidecars (last_seen);

create table sidekey_changes (
  change_id   bigserial primary key,
  kind        text not null,
  tenant      text not null,
  created_at  timestamptz not null default now()
);
`,
  },
  {
    version: 5,
    name: 'ORK scopes and token expiry',
    // (Version 4 is the fleet registry's; the runner applies what is
    // missing in array order, so a gap or a late 4 is fine.) ORK scopes are
    // stored by ORK id, never in the ORK string (src/access/ork-scope.ts);
    // existing ORKs keep every operation and full reveal. Expiring tokens
    // get a partial index for \`tokens purge-expired\`; tokens without a TTL
    // (every v1 token) are not in it. Additive: a v1.1 fleet keeps serving.
    sql: `
alter table sidekey_orks add column allow_ops text[] not null
  default array['tokenize', 'detokenize', 'encrypt', 'decrypt', 'delete', 'forget']::text[]
  check (allow_ops <@ array['tokenize', 'detokenize', 'encrypt', 'decrypt', 'delete', 'forget']::text[]);
alter table sidekey_orks add column reveal text not null default 'full'
  check (reveal in ('full', 'masked', 'none'));
create index sidekey_tokens_expiring on sidekey_tokens (expires_at) where expires_at is not null;
`,
  },
  {
    version: 6,
    name: 'data subjects',
    // Issue 13 (API.md "Data subjects"). One random key per (tenant,
    // subject), wrapped by the KEK (context purpose "subject", the tenant and
    // the key id); \`forget\` overwrites, then deletes the row. A record of a
    // subject names its key by id (random, not the subject): once the key row
    // is gone nothing in the token table links the record to the person.
    // Additive: a fleet without subjects keeps serving while it runs.
    sql: `
create table sidekey_subject_keys (
  tenant      text not null references sidekey_tenants (tenant),
  subject     text not null,
  key_id      text not null unique check (key_id ~ '^[0-9a-f]{32}$'),
  kek_ref     text not null,
  wrapped_key bytea not null,
  created_at  timestamptz not null default now(),
  primary key (tenant, subject)
);

alter table sidekey_tokens add column subject_key_id text;
create index sidekey_tokens_by_subject_key on sidekey_tokens (subject_key_id) where subject_key_id is not null;
`,
  },
  {
    version: 7,
    name: 'ingest key pairs',
    // End-to-end encrypted ingest (issue 14, docs/formats.md §19): per
    // tenant, one key pair per HPKE suite and generation. The private key is
    // only stored wrapped by the KEK (context {purpose: ingest, tenant,
    // key_id}); a pair past its \`retire_at\` opens nothing and is deleted
    // (destroyed) by the next \`ingest-key rotate\` or \`tenant shred\`.
    // Additive: older sidecars never read it.
    sql: `
create table sidekey_ingest_keys (
  tenant      text not null references sidekey_tenants (tenant),
  key_id      text not null,
  generation  integer not null check (generation > 0),
  suite       text not null check (suite in ('xwing', 'x25519')),
  public_key  bytea not null,
  kek_ref     text not null,
  wrapped_key bytea not null,
  created_at  timestamptz not null default now(),
  retire_at   timestamptz,
  primary key (tenant, key_id),
  unique (tenant, generation, suite)
);
`,
  },
];

/** The newest version (not the last entry: a lower version may be appended after a higher one). */
export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
