/** Reads sidekey's /metrics (Prometheus text) for the counters the benchmark reports. */

export interface MetricsSnapshot {
  /** `sidekey_kms_calls_total` exists (the instrumented KEK is wired). */
  readonly kmsWired: boolean;
  /** KMS wrap + unwrap calls. */
  readonly kmsKeyCalls: number;
  /** KMS health checks (readiness, cached ~10 s). */
  readonly kmsHealthCalls: number;
  readonly keyCacheMisses: number;
  readonly keyCacheHits: number;
  readonly flushes: number;
  readonly flushRows: number;
  readonly flushSeconds: number;
  /** Gauges at the time of reading (kept as they are by metricsDelta). */
  readonly heapUsedMiB: number;
  readonly heapTotalMiB: number;
  readonly externalMiB: number;
}

interface Sample {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly value: number;
}

export function parsePrometheus(text: string): { samples: Sample[]; names: Set<string> } {
  const samples: Sample[] = [];
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      names.add(line.split(' ')[2] ?? '');
      continue;
    }
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (m === null) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
      labels[l[1]!] = l[2]!;
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { samples, names };
}

export async function readMetrics(baseUrl: string): Promise<MetricsSnapshot> {
  const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(5_000) });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  const { samples, names } = parsePrometheus(await res.text());
  const sum = (name: string, where: (l: Record<string, string>) => boolean = () => true) =>
    samples.filter((s) => s.name === name && where(s.labels)).reduce((a, s) => a + s.value, 0);
  return {
    kmsWired: names.has('sidekey_kms_calls_total'),
    kmsKeyCalls: sum('sidekey_kms_calls_total', (l) => l.operation === 'wrap' || l.operation === 'unwrap'),
    kmsHealthCalls: sum('sidekey_kms_calls_total', (l) => l.operation === 'health'),
    keyCacheMisses: sum('sidekey_key_cache_lookups_total', (l) => l.result === 'miss'),
    keyCacheHits: sum('sidekey_key_cache_lookups_total', (l) => l.result === 'hit'),
    flushes: sum('sidekey_writer_flushes_total'),
    flushRows: sum('sidekey_writer_flush_rows_sum'),
    flushSeconds: sum('sidekey_writer_flush_duration_seconds_sum'),
    heapUsedMiB: sum('sidekey_nodejs_heap_size_used_bytes') / 2 ** 20,
    heapTotalMiB: sum('sidekey_nodejs_heap_size_total_bytes') / 2 ** 20,
    externalMiB: sum('sidekey_nodejs_external_memory_bytes') / 2 ** 20,
  };
}

export function metricsDelta(before: MetricsSnapshot, after: MetricsSnapshot): MetricsSnapshot {
  return {
    kmsWired: after.kmsWired,
    kmsKeyCalls: after.kmsKeyCalls - before.kmsKeyCalls,
    kmsHealthCalls: after.kmsHealthCalls - before.kmsHealthCalls,
    keyCacheMisses: after.keyCacheMisses - before.keyCacheMisses,
    keyCacheHits: after.keyCacheHits - before.keyCacheHits,
    flushes: after.flushes - before.flushes,
    flushRows: after.flushRows - before.flushRows,
    flushSeconds: after.flushSeconds - before.flushSeconds,
    heapUsedMiB: after.heapUsedMiB,
    heapTotalMiB: after.heapTotalMiB,
    externalMiB: after.externalMiB,
  };
}
