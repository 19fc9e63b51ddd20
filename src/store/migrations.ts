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
  {
    version: 8,
    name: 'time-partitioned audit log, exports, prunes and anchors',
    // Issue 19 (docs/architecture.md ADR-18, docs/formats.md §21). Additive:
    // events move to sidekey_audit_log, partitioned by range of event_time
    // (the event's own time, taken from its text, so a retried insert lands
    // on the same row and ON CONFLICT still makes writes idempotent). The old
    // table stays: a sidecar of an earlier release keeps inserting there
    // during a rolling upgrade, and sidekey_audit_roll_forward() moves such
    // rows over. The default partition catches any day without a partition.
    // Partitions are created ahead by that function (security definer, so
    // the sidecar role can call it without any DDL privilege); it attaches a
    // new table (SHARE UPDATE EXCLUSIVE on the parent) instead of CREATE …
    // PARTITION OF, so inserts never wait for it.
    sql: `
create table sidekey_audit_log (
  chain_id    text not null references sidekey_audit_chains (chain_id),
  seq         bigint not null check (seq > 0),
  prev_hash   bytea not null,
  hash        bytea not null,
  event       text not null,
  event_time  timestamptz not null,
  primary key (chain_id, seq, event_time)
) partition by range (event_time);
create table sidekey_audit_log_default partition of sidekey_audit_log default;

-- The event's time as written first in its text (eventText); epoch when absent.
create function sidekey_audit_event_time(event text) returns timestamptz
  language sql immutable strict set search_path from current as $$
  select coalesce(substring(event from '^\\{"time":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z)"')::timestamptz,
                  '1970-01-01T00:00:00Z'::timestamptz)
$$;

-- One statement: exactly the rows it deletes are copied (an older sidecar may insert meanwhile).
with moved as (delete from sidekey_audit_events returning *)
insert into sidekey_audit_log (chain_id, seq, prev_hash, hash, event, event_time)
  select chain_id, seq, prev_hash, hash, event, sidekey_audit_event_time(event) from moved
  on conflict do nothing;

-- Per chain, the last event removed by \`audit prune\`: verification starts after it.
create table sidekey_audit_anchors (
  chain_id    text primary key references sidekey_audit_chains (chain_id),
  seq         bigint not null check (seq > 0),
  hash        bytea not null,
  pruned_at   timestamptz not null default now()
);

-- Every completed \`audit export\` and, per chain, the sequence numbers it holds.
create table sidekey_audit_exports (
  export_id   text primary key,
  until       timestamptz not null,
  events      bigint not null,
  chains      integer not null,
  sha256      text not null,
  created_at  timestamptz not null default now()
);
create table sidekey_audit_export_chains (
  export_id   text not null references sidekey_audit_exports (export_id),
  chain_id    text not null,
  from_seq    bigint not null,
  to_seq      bigint not null,
  to_hash     bytea not null,
  primary key (export_id, chain_id)
);

-- \`audit prune\` runs: a running one is finished by the next run.
create table sidekey_audit_prunes (
  prune_id    text primary key,
  until       timestamptz not null,
  export_id   text,
  state       text not null default 'running' check (state in ('running', 'done')),
  events      bigint not null default 0,
  partitions  integer not null default 0,
  started_at  timestamptz not null default now(),
  finished_at timestamptz
);

-- Creates the daily partitions of [from_day, from_day + days] that do not
-- exist (skipping a day the default partition already holds rows of) and
-- moves rows an older sidecar wrote into sidekey_audit_events. Returns the
-- number of partitions created.
create function sidekey_audit_roll_forward(from_day date, days integer) returns integer
  language plpgsql security definer set search_path from current as $$
declare
  d date;
  part text;
  created integer := 0;
begin
  -- pg_temp last (it is searched first by default): a caller's temporary
  -- table must never stand in for one of ours in this security-definer body.
  perform set_config('search_path',
    concat_ws(',', (select string_agg(quote_ident(s), ',') from unnest(current_schemas(false)) s), 'pg_temp'), true);
  if days is null or days < 0 or days > 62 or from_day is null then
    raise exception 'days must be 0 to 62';
  end if;
  -- One roller at a time (every sidecar calls this); the others skip.
  if not pg_try_advisory_xact_lock(7419001) then
    return 0;
  end if;
  set local lock_timeout = '2s';
  for i in 0 .. days loop
    d := from_day + i;
    part := 'sidekey_audit_log_' || to_char(d, 'YYYYMMDD');
    continue when to_regclass(part) is not null;
    continue when exists (
      select 1 from sidekey_audit_log_default
       where event_time >= d::timestamp at time zone 'UTC' and event_time < (d + 1)::timestamp at time zone 'UTC');
    execute format('create table %I (like sidekey_audit_log including defaults including constraints)', part);
    execute format('alter table %I add constraint %I check (event_time >= %L and event_time < %L)',
      part, part || '_range', d::timestamp at time zone 'UTC', (d + 1)::timestamp at time zone 'UTC');
    execute format('alter table sidekey_audit_log attach partition %I for values from (%L) to (%L)',
      part, d::timestamp at time zone 'UTC', (d + 1)::timestamp at time zone 'UTC');
    execute format('alter table %I drop constraint %I', part, part || '_range');
    created := created + 1;
  end loop;
  with moved as (delete from sidekey_audit_events returning *)
  insert into sidekey_audit_log (chain_id, seq, prev_hash, hash, event, event_time)
    select chain_id, seq, prev_hash, hash, event, sidekey_audit_event_time(event) from moved
    on conflict do nothing;
  return created;
end $$;
revoke all on function sidekey_audit_roll_forward(date, integer) from public;
`,
  },
];

/** The newest version (not the last entry: a lower version may be appended after a higher one). */
export const SCHEMA_VERSION = Math.max(...MIGRATIONS.map((m) => m.version));
