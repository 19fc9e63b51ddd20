/**
 * A sidecar's membership of the fleet registry (docs/operations.md "Fleet
 * status"): it records itself at start and every heartbeat, acknowledges
 * each numbered change once it has applied it, and marks itself stopped on
 * a graceful stop. Registry writes never hold up serving: a failure is
 * reported, and the next heartbeat brings the row (and any acknowledgement
 * that failed) up to date.
 */
import { hostname } from 'node:os';
import type { Config } from '../config/index.js';
import { packageVersion } from '../observability/version.js';
import type { FleetRegistry, SidecarRecord } from '../store/index.js';

/** What this sidecar says about itself; its id is its audit chain's. */
export function sidecarRecord(
  config: Pick<Config, 'tenants' | 'caches' | 'fleet'>,
  sidecarId: string,
): SidecarRecord {
  return {
    sidecarId,
    // In Kubernetes the pod name.
    host: hostname(),
    version: packageVersion(),
    tenants: config.tenants,
    startedAt: new Date(),
    heartbeatSeconds: config.fleet.heartbeatSeconds,
    keyTtlSeconds: Math.ceil(Math.max(config.caches.tekTtlMs, config.caches.orkTtlMs) / 1000),
  };
}

export interface FleetMemberDeps {
  readonly registry: Pick<FleetRegistry, 'beat' | 'acknowledge' | 'markStopped' | 'latestChange'>;
  readonly record: SidecarRecord;
  /** Told of each acknowledged change, with the seconds it took (database clock). */
  readonly onApplied?: (changeId: number, lagSeconds: number | undefined) => void;
  readonly onError?: (err: unknown) => void;
}

/** How long a graceful stop waits for its "stopped" mark. */
const STOP_MARK_TIMEOUT_MS = 2_000;

export class FleetMember {
  private timer: NodeJS.Timeout | undefined;
  /** The newest change applied here, and the newest one the registry has. */
  private applied = 0;
  private acknowledged = 0;
  /** The newest change at start: applied by starting with empty caches (no lag to report). */
  private atStart = 0;
  private writing: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly deps: FleetMemberDeps) {}

  get sidecarId(): string {
    return this.deps.record.sidecarId;
  }

  /**
   * First record (failures reported, not thrown), then one every heartbeat.
   * Called before the first key is loaded: every change made so far is
   * already applied (fleet status and the "not applying changes" alert
   * compare a sidecar with the newest change).
   */
  async start(): Promise<void> {
    try {
      this.atStart = (await this.deps.registry.latestChange())?.changeId ?? 0;
      this.applied = this.atStart;
    } catch (err) {
      this.deps.onError?.(err);
    }
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.deps.record.heartbeatSeconds * 1000);
    this.timer.unref();
  }

  /** Every event before this numbered change has been applied (they arrive in commit order). */
  changeApplied(changeId: number): void {
    if (changeId <= this.applied) return;
    this.applied = changeId;
    void this.serial(() => this.acknowledge());
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await this.writing;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.deps.registry.markStopped(this.sidecarId).catch((err: unknown) => this.deps.onError?.(err)),
      new Promise((r) => {
        timer = setTimeout(r, STOP_MARK_TIMEOUT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  private beat(): Promise<void> {
    return this.serial(async () => {
      await this.deps.registry.beat(this.deps.record);
      await this.acknowledge();
    });
  }

  private async acknowledge(): Promise<void> {
    const changeId = this.applied;
    if (changeId <= this.acknowledged) return;
    const lag = await this.deps.registry.acknowledge(this.sidecarId, changeId);
    this.acknowledged = Math.max(this.acknowledged, changeId);
    this.deps.onApplied?.(changeId, changeId === this.atStart ? undefined : lag);
  }

  /** One registry write at a time, in order; failures reported. */
  private serial(work: () => Promise<void>): Promise<void> {
    const next = this.writing.then(async () => {
      if (this.closed) return;
      try {
        await work();
      } catch (err) {
        this.deps.onError?.(err);
      }
    });
    this.writing = next;
    return next;
  }
}
