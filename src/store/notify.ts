/**
 * Fleet key events over PostgreSQL LISTEN/NOTIFY (DESIGN.md "Fleet").
 *
 * The CLI announces every key change (ORK revoke, TEK rotation, tenant shred)
 * with `notifyKeyEvent`, ideally inside the transaction that makes the change
 * (NOTIFY is delivered at commit, so no sidecar hears of a change that rolled
 * back). Each sidecar listens on one dedicated connection (a pooled one could
 * be handed to a query mid-LISTEN) and drops the affected cache entries.
 *
 * A notification can be missed while the listener is disconnected, so the
 * listener reports 'connected' after every (re)connection: the caller then
 * drops all cached keys. Cache TTLs bound staleness in any case.
 *
 * Any role may NOTIFY any channel, so an event is only ever a hint to forget
 * cached keys — never a reason to trust or grant anything.
 */
import type pg from 'pg';
import {
  clientConfig,
  type PostgresConnectionConfig,
  resolveConnection,
  tlsClientClass,
} from './postgres-connection.js';
import { classifyPgError } from './postgres-errors.js';
import type { SqlExecutor } from './sql-client.js';

export const KEY_EVENTS_CHANNEL = 'sidekey_key_events';

export type KeyEvent =
  | { readonly kind: 'ork-revoked'; readonly tenant: string; readonly orkId: string }
  /** An ORK's scope changed (`ork scope`): sidecars drop its cached identity, which carries the scope. */
  | { readonly kind: 'ork-changed'; readonly tenant: string; readonly orkId: string }
  | { readonly kind: 'tek-changed'; readonly tenant: string }
  | { readonly kind: 'tenant-shredded'; readonly tenant: string }
  /** A field policy was set or deleted: sidecars drop their cached copy. */
  | { readonly kind: 'policy-changed'; readonly tenant: string; readonly field: string }
  /** Records deleted: other sidecars drop them from their ciphertext record caches. */
  | { readonly kind: 'tokens-deleted'; readonly tenant: string; readonly tokens: readonly string[] }
  /**
   * Data subjects of the tenant were forgotten (issue 13): sidecars drop the
   * tenant's cached subject keys and cached records of subjects. The subjects
   * are not named (1,000 ids do not fit a payload; an event is only a hint).
   */
  | { readonly kind: 'subjects-forgotten'; readonly tenant: string }
  /**
   * A numbered change (fleet-registry.ts) was made before this: a sidecar
   * acknowledges the number in the fleet registry once it has applied every
   * earlier event (they arrive in commit order).
   */
  | { readonly kind: 'change'; readonly tenant: string; readonly changeId: number }
  /** Ingest key pairs added, retired or destroyed (`ingest-key rotate`, issue 14): sidecars reload the tenant's list. */
  | { readonly kind: 'ingest-keys-changed'; readonly tenant: string };

/** NOTIFY payloads must stay under 8000 bytes: deletions are announced in chunks of this many tokens. */
export const TOKENS_PER_EVENT = 200;

/** Payload format version: bump on any incompatible change. */
const EVENT_VERSION = 1;
const MAX_ID = 256;

const isId = (v: unknown): v is string =>
  typeof v === 'string' && v.length > 0 && v.length <= MAX_ID && !/[\u0000-\u001f\u007f]/.test(v);

const isChangeId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0;

export function encodeKeyEvent(event: KeyEvent): string {
  if (
    !isId(event.tenant) ||
    ((event.kind === 'ork-revoked' || event.kind === 'ork-changed') && !isId(event.orkId))
  ) {
    throw new TypeError('malformed key event');
  }
  switch (event.kind) {
    case 'policy-changed':
      if (!isId(event.field)) throw new TypeError('malformed key event');
      return JSON.stringify({ v: EVENT_VERSION, kind: event.kind, tenant: event.tenant, field: event.field });
    case 'ork-revoked':
    case 'ork-changed':
      return JSON.stringify({ v: EVENT_VERSION, kind: event.kind, tenant: event.tenant, orkId: event.orkId });
    case 'change':
      if (!isChangeId(event.changeId)) throw new TypeError('malformed key event');
      return JSON.stringify({
        v: EVENT_VERSION,
        kind: event.kind,
        tenant: event.tenant,
        changeId: event.changeId,
      });
    case 'tokens-deleted':
      if (event.tokens.length > TOKENS_PER_EVENT || !event.tokens.every(isId))
        throw new TypeError('malformed key event');
      return JSON.stringify({
        v: EVENT_VERSION,
        kind: event.kind,
        tenant: event.tenant,
        tokens: event.tokens,
      });
    default:
      return JSON.stringify({ v: EVENT_VERSION, kind: event.kind, tenant: event.tenant });
  }
}

/** The event, or undefined for anything malformed or from an unknown format version. */
export function decodeKeyEvent(payload: string): KeyEvent | undefined {
  let x: unknown;
  try {
    x = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof x !== 'object' || x === null) return undefined;
  const o = x as Record<string, unknown>;
  if (o.v !== EVENT_VERSION || !isId(o.tenant)) return undefined;
  switch (o.kind) {
    case 'ork-revoked':
      return isId(o.orkId) ? { kind: 'ork-revoked', tenant: o.tenant, orkId: o.orkId } : undefined;
    case 'ork-changed':
      return isId(o.orkId) ? { kind: 'ork-changed', tenant: o.tenant, orkId: o.orkId } : undefined;
    case 'tek-changed':
      return { kind: 'tek-changed', tenant: o.tenant };
    case 'tenant-shredded':
      return { kind: 'tenant-shredded', tenant: o.tenant };
    case 'subjects-forgotten':
      return { kind: 'subjects-forgotten', tenant: o.tenant };
    case 'ingest-keys-changed':
      return { kind: 'ingest-keys-changed', tenant: o.tenant };
    case 'policy-changed':
      return isId(o.field) ? { kind: 'policy-changed', tenant: o.tenant, field: o.field } : undefined;
    case 'change':
      return isChangeId(o.changeId) ? { kind: 'change', tenant: o.tenant, changeId: o.changeId } : undefined;
    case 'tokens-deleted':
      return Array.isArray(o.tokens) && o.tokens.length <= TOKENS_PER_EVENT && o.tokens.every(isId)
        ? { kind: 'tokens-deleted', tenant: o.tenant, tokens: o.tokens as string[] }
        : undefined;
    default:
      return undefined;
  }
}

/** Announces `event`; inside a transaction it is delivered at commit. */
export async function notifyKeyEvent(executor: SqlExecutor, event: KeyEvent): Promise<void> {
  await executor.query('select pg_notify($1, $2)', [KEY_EVENTS_CHANNEL, encodeKeyEvent(event)]);
}

/** Tells sidecars to drop these records from their caches (deleted, purged or re-encrypted), in payload-sized chunks. */
export async function announceRecordsChanged(
  executor: SqlExecutor,
  tenant: string,
  tokens: readonly string[],
): Promise<void> {
  for (let i = 0; i < tokens.length; i += TOKENS_PER_EVENT) {
    await notifyKeyEvent(executor, {
      kind: 'tokens-deleted',
      tenant,
      tokens: tokens.slice(i, i + TOKENS_PER_EVENT),
    });
  }
}

export type ListenerState = 'connected' | 'disconnected';

export interface KeyEventListenerOptions {
  readonly connectTimeoutMs?: number;
  /** First reconnect delay; doubles up to `maxBackoffMs`, with jitter. Default 250. */
  readonly minBackoffMs?: number;
  /** Default 10000. */
  readonly maxBackoffMs?: number;
  /** A `select 1` this often detects a silently dead connection. Default 30000. */
  readonly heartbeatMs?: number;
  /** Connection problems and malformed payloads; messages carry no secret. */
  readonly onError?: (err: Error) => void;
  /**
   * Before each LISTEN, read the newest numbered change (fleet-registry.ts)
   * and hand it to `onState('connected', …)`: every change up to it committed
   * before the LISTEN, so the cache clear that follows a (re)connection has
   * applied it.
   */
  readonly readLatestChange?: boolean;
}

export interface KeyEventListener {
  close(): Promise<void>;
}

/**
 * Listens for key events on a dedicated connection with the same mutual TLS
 * as the store, reconnecting with backoff until `close()`. Throws at once
 * (StoreConfigError) if the URL or the TLS files are unusable.
 */
export function listenKeyEvents(
  cfg: PostgresConnectionConfig,
  onEvent: (event: KeyEvent) => void,
  onState: (state: ListenerState, latestChange?: number) => void,
  opts: KeyEventListenerOptions = {},
): KeyEventListener {
  const onError = opts.onError ?? (() => {});
  const { target, user, material } = resolveConnection(cfg, onError);
  const TlsClient = tlsClientClass(material);
  const minBackoff = opts.minBackoffMs ?? 250;
  const maxBackoff = opts.maxBackoffMs ?? 10_000;
  const heartbeatMs = opts.heartbeatMs ?? 30_000;
  const report = (err: unknown) => {
    const e = classifyPgError(err, target, user);
    onError(e instanceof Error ? e : new Error(String(e)));
  };

  let closed = false;
  let connected = false;
  let attempt = 0;
  let current: pg.Client | undefined;
  let retryTimer: NodeJS.Timeout | undefined;

  const setState = (state: ListenerState, latestChange?: number) => {
    const isConnected = state === 'connected';
    if (connected === isConnected && !isConnected) return;
    connected = isConnected;
    try {
      onState(state, latestChange);
    } catch (err) {
      report(err);
    }
  };

  const scheduleReconnect = () => {
    if (closed) return;
    const base = Math.min(maxBackoff, minBackoff * 2 ** Math.min(attempt, 16));
    attempt++;
    retryTimer = setTimeout(connect, base / 2 + Math.random() * (base / 2));
  };

  const connect = async () => {
    retryTimer = undefined;
    if (closed) return;
    const client = new TlsClient(
      clientConfig(target, user, {
        connectTimeoutMs: opts.connectTimeoutMs ?? 2_000,
        statementTimeoutMs: 5_000,
      }),
    );
    current = client;
    let heartbeat: NodeJS.Timeout | undefined;
    let down = false;
    const fail = (err?: unknown) => {
      if (down) return;
      down = true;
      if (err !== undefined && !closed) report(err);
      clearInterval(heartbeat);
      client.end().catch(() => {});
      if (current === client) current = undefined;
      setState('disconnected');
      scheduleReconnect();
    };
    client.on('error', fail);
    client.on('end', () => fail());
    client.on('notification', (msg) => {
      if (msg.channel !== KEY_EVENTS_CHANNEL) return;
      const event = decodeKeyEvent(msg.payload ?? '');
      if (event === undefined) {
        onError(new Error(`ignored a malformed notification on ${KEY_EVENTS_CHANNEL}`));
        return;
      }
      try {
        onEvent(event);
      } catch (err) {
        report(err);
      }
    });
    let latestChange: number | undefined;
    try {
      await client.connect();
      if (opts.readLatestChange === true) {
        latestChange = await client
          .query<{ n: string | number }>('select coalesce(max(change_id), 0) as n from sidekey_changes')
          .then(
            (r) => Number(r.rows[0]?.n ?? 0),
            () => undefined, // an older schema, or no grant: nothing to acknowledge
          );
      }
      await client.query(`listen ${KEY_EVENTS_CHANNEL}`);
    } catch (err) {
      fail(err);
      return;
    }
    if (down) return;
    if (closed) {
      await client.end().catch(() => {});
      return;
    }
    attempt = 0;
    heartbeat = setInterval(() => {
      client.query('select 1').catch(fail);
    }, heartbeatMs);
    setState('connected', latestChange);
  };

  void connect();

  return {
    async close() {
      if (closed) return;
      closed = true;
      clearTimeout(retryTimer);
      const client = current;
      current = undefined;
      if (client !== undefined) {
        client.removeAllListeners('notification');
        await client.end().catch(() => {});
      }
    },
  };
}
