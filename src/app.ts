/**
 * The composition root: builds the object graph of a serving daemon from a
 * validated Config and hands each part exactly what it uses. Nothing else
 * constructs adapters.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Auditor, AuditSpool, SPOOL_DIR, SPOOL_SHIP_DELAY_MS, startPartitionRoller } from './audit/index.js';
import type { Config } from './config/index.js';
import { systemRandom } from './crypto/index.js';
import { FleetMember, sidecarRecord } from './fleet/index.js';
import { IngestKeyring } from './ingest/index.js';
import { Keyring, SubjectKeys } from './keyring/index.js';
import { createKekRing, type KekRing } from './kms/index.js';
import { createLoggers, describeError, HealthChecker, type Loggers, Metrics } from './observability/index.js';
import { PolicyBook } from './policy/index.js';
import { TokenService } from './service/index.js';
import {
  isStoreUnavailable,
  type KeyEvent,
  listenKeyEvents,
  openStore,
  SchemaError,
  type Store,
} from './store/index.js';
import { createTenant, issueOrk } from './tenants/index.js';
import { listenGrpc } from './transport/grpc/index.js';
import { createHttpApp, listenHttp } from './transport/http/index.js';
import { GroupCommitWriter } from './writer/group-commit.js';
import { SubjectWriter } from './writer/subject-writer.js';

export interface Daemon {
  readonly httpPort: number;
  /** Absolute path of the gRPC unix socket. */
  readonly grpcSocket: string;
  readonly service: TokenService;
  readonly keyring: Keyring;
  readonly store: Store;
  /** Graceful stop: stop accepting, finish in-flight work, flush, zero keys, release the store. */
  close(): Promise<void>;
}

export interface DaemonOptions {
  readonly loggers?: Loggers;
  /** Where human notes go (the curl line of the first start). Default stderr. */
  readonly note?: (line: string) => void;
}

const RECORD_CACHE_TTL_MS = 30_000;
export const DEMO_TENANT = 'demo';

export async function startDaemon(config: Config, options: DaemonOptions = {}): Promise<Daemon> {
  const { log, audit: auditLog, auditLines } = options.loggers ?? createLoggers(config.logLevel);
  const note = options.note ?? ((line: string) => process.stderr.write(`${line}\n`));
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });

  const cleanup: (() => Promise<void> | void)[] = [];
  const undo = async () => {
    for (const f of cleanup.reverse()) await Promise.resolve(f()).catch(() => {});
  };
  try {
    let writer: GroupCommitWriter | undefined;
    let auditor: Auditor | undefined;
    let spool: AuditSpool | undefined;
    const metrics = new Metrics({
      queueDepth: () => writer?.depth ?? 0,
      auditBacklog: () => spool?.backlog ?? (writer?.auditDepth ?? 0) + (auditor?.backlog ?? 0),
      auditBacklogLimit: config.audit.durability === 'spool' ? config.audit.spoolMaxEvents : 0,
      certificates: config.store.kind === 'postgres' ? { postgres_client: config.store.certFile } : {},
      fleet: config.store.kind === 'postgres',
    });
    const keks = await createKekRing(config, {
      random: systemRandom,
      warn: (m) => log.warn(m),
      observe: (o) => metrics.kmsCall(o.provider, o.operation, o.outcome, o.seconds),
    });
    cleanup.push(() => Promise.all(keks.all().map((k) => k.close())).then(() => {}));

    const store = await openStore(config.store, config.dataDir, {
      onError: (err) => log.warn({ err: describeError(err) }, 'store connection problem'),
      // A sidecar may start before its database is reachable: it serves
      // UNAVAILABLE (and /readyz 503) until it is. TLS and login problems
      // still stop the start with a clear message.
      allowUnavailableAtStart: true,
    });
    cleanup.push(() => store.close());
    if (store.kind === 'embedded') {
      const applied = await store.migrate();
      if (applied.length > 0) log.info({ applied }, 'embedded store schema created or upgraded');
    } else {
      await store.ping().catch((err: unknown) => {
        if (!isStoreUnavailable(err) && !(err instanceof SchemaError)) throw err;
        log.warn({ err: describeError(err) }, 'the store is not ready yet; serving UNAVAILABLE until it is');
      });
    }
    // Audit at scale (issue 19): daily audit partitions created ahead, hourly.
    const roller = startPartitionRoller(store.auditLog, (err) =>
      log.warn({ err: describeError(err) }, 'audit partitions not rolled forward; retrying in an hour'),
    );
    cleanup.push(async () => roller.stop());

    writer = new GroupCommitWriter({
      maxRows: config.writer.maxRows,
      // PGlite is one connection in this thread: concurrent transactions only queue.
      maxInFlight: store.kind === 'embedded' ? 1 : config.writer.maxInFlight,
      // Spooled audit rows are already durable: they may wait longer for a flush (ADR-17).
      ...(config.audit.durability === 'spool' && { lazyAuditMs: SPOOL_SHIP_DELAY_MS }),
      write: (batch) => store.write(batch),
      onFlush: (rows, seconds, error) => {
        metrics.flush(rows, seconds, error !== undefined);
        if (error !== undefined) log.warn({ err: describeError(error), rows }, 'group commit failed');
      },
    });
    spool = await openAuditSpool(config, store, writer, { log, auditLog });
    if (spool !== undefined) {
      const opened = spool;
      cleanup.push(() => opened.close().then(() => {}));
    }
    auditor = await Auditor.open({
      store,
      kek: keks.primary,
      sink: spool ?? writer,
      log: auditLog,
      lines: auditLines,
    });
    log.info({ chain: auditor.chainId }, 'audit chain opened');

    const keyring = new Keyring({
      store,
      keks,
      options: {
        tekTtlMs: config.caches.tekTtlMs,
        orkTtlMs: config.caches.orkTtlMs,
        maxKeys: config.caches.maxKeys,
      },
      onCacheLookup: (cache, hit) => metrics.cacheLookup(cache, hit),
    });
    const subjects = new SubjectKeys({
      store,
      keks,
      random: systemRandom,
      options: { ttlMs: config.caches.tekTtlMs, maxKeys: config.caches.maxKeys },
      onCacheLookup: (hit) => metrics.cacheLookup('subject', hit),
    });
    const policies = new PolicyBook(store, { ttlMs: config.caches.policyTtlMs, max: config.caches.maxKeys });
    // Data subjects' records: their own group commit, which locks their key rows (ADR-15).
    const subjectWriter = new SubjectWriter({
      maxRows: config.writer.maxRows,
      maxInFlight: store.kind === 'embedded' ? 1 : config.writer.maxInFlight,
      write: (rows) => store.writeSubjectTokens(rows),
    });
    // End-to-end encrypted ingest (issue 14): key lists and unwrapped private keys, cached like TEKs.
    const ingest = new IngestKeyring({
      store,
      keks,
      random: systemRandom,
      now: Date.now,
      ttlMs: config.caches.tekTtlMs,
      maxKeys: config.caches.maxKeys,
    });
    const service = new TokenService({
      keyring,
      subjects,
      subjectWriter,
      policies,
      store,
      writer,
      auditor,
      random: systemRandom,
      limits: config.limits,
      tenants: config.tenants,
      durableReveal: config.audit.durableReveal,
      recordCache: { max: config.caches.maxRecords, ttlMs: RECORD_CACHE_TTL_MS },
      now: Date.now,
      ingest,
      ...(config.rateLimit && { rateLimit: config.rateLimit }),
      observe: (op, outcome, seconds, items) => metrics.operation(op, outcome, seconds, items),
      onInternalError: (err, ctx, operation) =>
        log.error({ err: describeError(err), requestId: ctx.requestId, operation }, 'internal error'),
    });

    if (config.bootstrapDemo) await bootstrapDemo(config, { store, keks }, log, note);
    if (config.store.kind === 'postgres') {
      const fleet = new FleetMember({
        registry: store.fleet,
        record: sidecarRecord(config, auditor.chainId),
        onApplied: (changeId, lag) => metrics.fleetChangeApplied(changeId, lag),
        onError: (err) => {
          metrics.fleetRegistryFailed();
          log.warn(
            { err: describeError(err) },
            'fleet registry write failed; retrying at the next heartbeat',
          );
        },
      });
      await fleet.start();
      cleanup.push(() => fleet.close());
      const events = listenKeyEvents(
        config.store,
        (event) => applyKeyEvent(event, { keyring, subjects, policies, service, fleet, ingest }),
        (state, latestChange) => {
          metrics.listenerState(state === 'connected');
          // Notifications sent while we were away are lost: forget every key and policy.
          if (state === 'connected') {
            keyring.clear();
            subjects.clear();
            policies.clear();
            ingest.clear();
          }
          // That applied every change made before the LISTEN.
          if (state === 'connected' && latestChange !== undefined) fleet.changeApplied(latestChange);
          log.info({ state }, 'key event listener');
        },
        {
          onError: (err) => log.warn({ err: describeError(err) }, 'key event listener problem'),
          readLatestChange: true,
        },
      );
      cleanup.push(() => events.close());
    }

    const health = new HealthChecker({
      keks,
      store,
      describeStoreError: (err) => (err instanceof Error ? err.message : 'unavailable'),
    });
    const clientToken =
      config.clientTokenFile === undefined ? undefined : readFileSync(config.clientTokenFile, 'utf8').trim();
    if (clientToken === '') throw new Error('SIDEKEY_CLIENT_TOKEN_FILE is empty');
    const app = createHttpApp({
      service,
      readiness: () => health.readiness(),
      metrics: async () => ({
        contentType: metrics.registry.contentType,
        body: await metrics.registry.metrics(),
      }),
      bindHost: config.http.host,
      maxBodyBytes: config.limits.maxBodyBytes,
      clientToken,
      onInternalError: (err, requestId) =>
        log.error({ err: describeError(err), requestId }, 'internal error'),
      onRefused: (reason) => metrics.refused('http', reason),
    });
    const http = await listenHttp(app, config.http.host, config.http.port);
    const grpc = await listenGrpc({
      service,
      socketPath: config.grpcSocket,
      readiness: () => health.readiness(),
      clientToken,
      onRefused: (reason) => metrics.refused('grpc', reason),
      maxMessageBytes: config.limits.maxBodyBytes,
      shutdownGraceMs: config.shutdownTimeoutMs / 2,
      log,
    }).catch(async (err: unknown) => {
      await http.close();
      throw err;
    });
    log.info(
      {
        host: config.http.host,
        port: http.port,
        grpcSocket: grpc.socketPath,
        store: store.kind,
        kms: keks.primary.provider,
      },
      'serving',
    );

    let closing: Promise<void> | undefined;
    return {
      httpPort: http.port,
      grpcSocket: grpc.socketPath,
      service,
      keyring,
      store,
      close: () => {
        closing ??= (async () => {
          await grpc.close();
          await http.close();
          await subjectWriter.drain();
          await spool?.settle();
          const unwritten = await writer.close();
          const spooled = (await spool?.close()) ?? 0;
          if (spool !== undefined && spooled > 0)
            log.warn({ rows: spooled }, 'audit rows stay in the spool; the next start ships them');
          else if (unwritten > 0)
            log.error({ rows: unwritten }, 'audit rows could not be written before shutdown');
          auditor.close();
          keyring.clear();
          subjects.clear();
          ingest.clear();
          await undo();
          log.info('stopped');
          log.flush();
          auditLog.flush();
        })();
        return closing;
      },
    };
  } catch (err) {
    await undo();
    throw err;
  }
}

/** Another sidecar or the CLI changed keys or records: forget what we cached about them. */
function applyKeyEvent(
  event: KeyEvent,
  caches: {
    keyring: Keyring;
    subjects: SubjectKeys;
    policies: PolicyBook;
    service: TokenService;
    fleet: FleetMember;
    ingest: IngestKeyring;
  },
): void {
  const { keyring, subjects, policies, service, fleet, ingest } = caches;
  switch (event.kind) {
    case 'policy-changed':
      policies.invalidate(event.tenant, event.field);
      return;
    case 'ork-revoked':
    case 'ork-changed': // the scope is cached with the ORK's identity
      keyring.invalidateOrk(event.tenant, event.orkId);
      return;
    case 'ingest-keys-changed':
      ingest.invalidateTenant(event.tenant);
      return;
    case 'tek-changed':
    case 'tenant-shredded':
      keyring.invalidateTenant(event.tenant);
      subjects.invalidateTenant(event.tenant);
      if (event.kind === 'tenant-shredded') ingest.invalidateTenant(event.tenant);
      if (event.kind === 'tenant-shredded') service.forgetRecords();
      return;
    case 'subjects-forgotten': // data subjects (issue 13)
      subjects.invalidateTenant(event.tenant);
      service.forgetSubjectRecords(event.tenant);
      return;
    case 'tokens-deleted':
      service.forgetRecords(event.tokens);
      return;
    case 'change':
      // Every event before it has been applied above: acknowledge (fleet status, operator waits).
      fleet.changeApplied(event.changeId);
      return;
  }
}

/**
 * First start in development: tenant `demo`, an ORK in <data dir>/demo.ork
 * (0600), and a curl line to paste.
 */
async function bootstrapDemo(
  config: Config,
  deps: { store: Store; keks: KekRing },
  log: Loggers['log'],
  note: (line: string) => void,
): Promise<void> {
  const orkFile = join(config.dataDir, `${DEMO_TENANT}.ork`);
  const created = await createTenant({ ...deps, random: systemRandom }, DEMO_TENANT);
  if (created) {
    const { orkId, orkString } = await issueOrk(
      { ...deps, random: systemRandom },
      DEMO_TENANT,
      'demo (first start)',
    );
    writeFileSync(orkFile, `${orkString}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(orkFile, 0o600);
    log.info({ tenant: DEMO_TENANT, orkId, orkFile }, 'created the demo tenant and its ORK');
  }
  if (!created && !existsSync(orkFile)) return;
  const url = `http://${config.http.host.includes(':') && !config.http.host.startsWith('[') ? `[${config.http.host}]` : config.http.host}:${config.http.port}`;
  note('');
  const mode = deps.keks.primary.provider === 'local' ? 'local KEK file, embedded store' : 'embedded store';
  note(`sidekey: development mode (${mode}). Do not use it for real data.`);
  note(`sidekey: tenant "${DEMO_TENANT}" has its organisation key in ${orkFile}. Try:`);
  note('');
  note(
    `  curl -s ${url}/v1/tokenize -H 'Content-Type: application/json' -H "X-Sidekey-Org-Key: $(cat ${orkFile})" -d '{"tenant":"demo","field":"email","values":["alice@example.com"]}'`,
  );
  note('');
}

/**
 * ADR-17: with SIDEKEY_AUDIT_DURABILITY=spool, the audit spool in the data
 * directory (reveals wait for its fdatasync, or with
 * SIDEKEY_AUDIT_SPOOL_SYNC=interval for its write — ADR-20; it ships to the
 * store through the writer), with what earlier processes left in it already on its way.
 */
async function openAuditSpool(
  config: Config,
  store: Pick<Store, 'insertAuditChain'>,
  writer: GroupCommitWriter,
  logs: { readonly log: Loggers['log']; readonly auditLog: Loggers['audit'] },
): Promise<AuditSpool | undefined> {
  if (config.audit.durability !== 'spool') return undefined;
  const spool = await AuditSpool.open({
    dir: join(config.dataDir, SPOOL_DIR),
    store,
    downstream: writer,
    maxEvents: config.audit.spoolMaxEvents,
    sync: config.audit.spoolSync,
    log: logs.auditLog,
  });
  if (spool.recovered > 0)
    logs.log.info(
      { events: spool.recovered },
      'audit events of an earlier process found in the spool; shipping them',
    );
  return spool;
}
