/**
 * Prometheus metrics (GET /metrics). Labels are operation names, outcomes,
 * cache and provider names only — never a tenant's data.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { registerCertificateExpiry } from './cert-expiry.js';

/** Why an HTTP or gRPC request was refused before it reached the service (API.md "Credentials"). */
export type RefusalReason = 'host' | 'origin' | 'content_type' | 'route' | 'body_size' | 'client_token';
export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'host',
  'origin',
  'content_type',
  'route',
  'body_size',
  'client_token',
];

export interface MetricsSources {
  /** Rows waiting for the group-commit writer. */
  readonly queueDepth: () => number;
  /** Audit events not yet durable in the store. */
  readonly auditBacklog?: () => number;
  /** SIDEKEY_AUDIT_SPOOL_MAX_EVENTS with the audit spool (ADR-17); 0 without it. */
  readonly auditBacklogLimit?: number;
  /** Certificate files whose expiry is exported, by name (`postgres_client`). */
  readonly certificates?: Readonly<Record<string, string>>;
  /** A member of a fleet (the postgres store): export the fleet metrics. */
  readonly fleet?: boolean;
}

/** Fleet notifications and the fleet registry (src/fleet). */
class FleetMetrics {
  readonly listener: Gauge;
  readonly changeApplied: Gauge;
  readonly changeLag: Histogram;
  readonly registryFailures: Counter;

  constructor(registry: Registry) {
    this.listener = new Gauge({
      name: 'sidekey_fleet_listener_connected',
      help: '1 while the fleet notification (LISTEN) connection is up, 0 while it is down.',
      registers: [registry],
    });
    this.changeApplied = new Gauge({
      name: 'sidekey_fleet_change_applied',
      help: 'The newest numbered key or policy change this sidecar has applied.',
      registers: [registry],
    });
    this.changeLag = new Histogram({
      name: 'sidekey_fleet_change_lag_seconds',
      help: 'From a change being made (database clock) to this sidecar acknowledging it.',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: [registry],
    });
    this.registryFailures = new Counter({
      name: 'sidekey_fleet_registry_failures_total',
      help: 'Failed writes of this sidecar to the fleet registry (heartbeats, acknowledgements).',
      registers: [registry],
    });
  }
}

const LATENCY_BUCKETS = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
];

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new Counter({
    name: 'sidekey_requests_total',
    help: 'Operations by outcome (ok or error code).',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'sidekey_request_duration_seconds',
    help: 'Operation latency inside the service (validation to audit).',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly items = new Counter({
    name: 'sidekey_items_total',
    help: 'Values, tokens or ciphertexts processed.',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });
  private readonly cache = new Counter({
    name: 'sidekey_key_cache_lookups_total',
    help: 'Key cache lookups by cache and result.',
    labelNames: ['cache', 'result'] as const,
    registers: [this.registry],
  });
  private readonly kmsCalls = new Counter({
    name: 'sidekey_kms_calls_total',
    help: 'KMS calls by provider, operation and outcome; near zero per operation once warm.',
    labelNames: ['provider', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly kmsLatency = new Histogram({
    name: 'sidekey_kms_call_duration_seconds',
    help: 'KMS call latency.',
    labelNames: ['provider', 'operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly flushes = new Counter({
    name: 'sidekey_writer_flushes_total',
    help: 'Group-commit flushes by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly flushRows = new Histogram({
    name: 'sidekey_writer_flush_rows',
    help: 'Rows per group-commit flush.',
    buckets: [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000],
    registers: [this.registry],
  });
  private readonly flushLatency = new Histogram({
    name: 'sidekey_writer_flush_duration_seconds',
    help: 'Group-commit transaction latency.',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  private readonly refusals = new Counter({
    name: 'sidekey_requests_refused_total',
    help: 'Requests refused before the service, by transport and reason (host, origin, content_type, route, body_size, client_token).',
    labelNames: ['transport', 'reason'] as const,
    registers: [this.registry],
  });
  /** Only a sidecar on postgres is part of a fleet (an embedded one would always look disconnected). */
  private readonly fleet: FleetMetrics | undefined;

  constructor({ queueDepth, auditBacklog, auditBacklogLimit, certificates, fleet }: MetricsSources) {
    collectDefaultMetrics({ register: this.registry, prefix: 'sidekey_' });
    new Gauge({
      name: 'sidekey_writer_queue_depth',
      help: 'Rows waiting for the group-commit writer.',
      registers: [this.registry],
      collect() {
        this.set(queueDepth());
      },
    });
    new Gauge({
      name: 'sidekey_audit_backlog',
      help: 'Audit events not yet durable in the store.',
      registers: [this.registry],
      collect() {
        this.set(auditBacklog?.() ?? 0);
      },
    });
    new Gauge({
      name: 'sidekey_audit_backlog_limit',
      help: 'The audit backlog at which every call is refused (SIDEKEY_AUDIT_SPOOL_MAX_EVENTS with the audit spool); 0: no limit (SIDEKEY_AUDIT_DURABILITY=store).',
      registers: [this.registry],
    }).set(auditBacklogLimit ?? 0);
    registerCertificateExpiry(this.registry, certificates ?? {});
    // Every series from the start: a rate() alert needs the zero before the spike.
    for (const reason of REFUSAL_REASONS) this.refusals.inc({ transport: 'http', reason }, 0);
    this.refusals.inc({ transport: 'grpc', reason: 'client_token' }, 0);
    this.fleet = fleet === true ? new FleetMetrics(this.registry) : undefined;
  }

  refused(transport: 'http' | 'grpc', reason: RefusalReason): void {
    this.refusals.inc({ transport, reason });
  }

  listenerState(connected: boolean): void {
    this.fleet?.listener.set(connected ? 1 : 0);
  }

  fleetChangeApplied(changeId: number, lagSeconds: number | undefined): void {
    this.fleet?.changeApplied.set(changeId);
    if (lagSeconds !== undefined) this.fleet?.changeLag.observe(lagSeconds);
  }

  fleetRegistryFailed(): void {
    this.fleet?.registryFailures.inc();
  }

  operation(operation: string, outcome: string, seconds: number, items: number): void {
    this.requests.inc({ operation, outcome });
    this.latency.observe({ operation }, seconds);
    if (outcome === 'ok' && items > 0) this.items.inc({ operation }, items);
  }

  cacheLookup(cache: string, hit: boolean): void {
    this.cache.inc({ cache, result: hit ? 'hit' : 'miss' });
  }

  kmsCall(provider: string, operation: string, outcome: string, seconds: number): void {
    this.kmsCalls.inc({ provider, operation, outcome });
    this.kmsLatency.observe({ provider, operation }, seconds);
  }

  flush(rows: number, seconds: number, failed: boolean): void {
    this.flushes.inc({ outcome: failed ? 'error' : 'ok' });
    if (!failed) {
      this.flushRows.observe(rows);
      this.flushLatency.observe(seconds);
    }
  }
}
