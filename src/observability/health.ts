/**
 * Readiness: the KMS answers and the store answers with a current schema.
 * KMS health is cached briefly: a remote KMS health call is a real request
 * and probes come every few seconds from every pod.
 */
import type { KekRing } from '../kms/index.js';
import type { Store } from '../store/index.js';

export interface Readiness {
  readonly ready: boolean;
  readonly checks: Record<string, string>;
}

const KMS_HEALTH_TTL_MS = 10_000;
const CHECK_TIMEOUT_MS = 3_000;

export class HealthChecker {
  private kmsCached: { at: number; checks: Record<string, string>; ok: boolean } | undefined;

  constructor(
    private readonly deps: {
      keks: KekRing;
      store: Pick<Store, 'ping'>;
      describeStoreError: (err: unknown) => string;
    },
  ) {}

  async readiness(): Promise<Readiness> {
    const [kms, store] = await Promise.all([this.kms(), this.store()]);
    const checks = { ...kms.checks, store: store };
    return { ready: kms.ok && store === 'ok', checks };
  }

  private async store(): Promise<string> {
    try {
      await withTimeout(this.deps.store.ping(), CHECK_TIMEOUT_MS);
      return 'ok';
    } catch (err) {
      return this.deps.describeStoreError(err);
    }
  }

  private async kms(): Promise<{ ok: boolean; checks: Record<string, string> }> {
    const now = Date.now();
    if (this.kmsCached && now - this.kmsCached.at < KMS_HEALTH_TTL_MS) return this.kmsCached;
    const checks: Record<string, string> = {};
    let ok = true;
    for (const kek of this.deps.keks.all()) {
      const name = kek === this.deps.keks.primary ? 'kms' : `kms:${kek.kekRef}`;
      try {
        const h = await withTimeout(kek.health(), CHECK_TIMEOUT_MS);
        checks[name] = h.ok ? 'ok' : h.reason;
        // Only the primary KEK gates readiness: a previous KEK (a rotation in
        // progress) that is down costs only cache misses on old keys, which
        // then fail UNAVAILABLE on their own; its state is still reported.
        if (kek === this.deps.keks.primary) ok &&= h.ok;
      } catch {
        checks[name] = 'health check failed';
        if (kek === this.deps.keks.primary) ok = false;
      }
    }
    this.kmsCached = { at: now, checks, ok };
    return this.kmsCached;
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
