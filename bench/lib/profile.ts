/**
 * Reads a V8 .cpuprofile (node --cpu-prof): self time per function (the
 * samples whose top frame is that function), inclusive time per function of
 * sidekey's own code, and self time per file or package.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
    readonly columnNumber: number;
  };
  readonly hitCount?: number;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

export interface ProfileEntry {
  readonly name: string;
  readonly ms: number;
  /** Share of the busy (non-idle) time, percent. */
  readonly percent: number;
}

export interface ProfileSummary {
  readonly file: string;
  readonly totalMs: number;
  readonly idleMs: number;
  readonly busyMs: number;
  readonly samples: number;
  readonly topSelf: readonly ProfileEntry[];
  readonly topSelfByFile: readonly ProfileEntry[];
  readonly topInclusiveSidekey: readonly ProfileEntry[];
}

/** `file:///…/node_modules/pg/lib/client.js` → `pg/lib/client.js`; build prefix → `src/…`. */
export function shortUrl(url: string, buildRoot?: string): string {
  let u = url.replace(/^file:\/\//, '');
  if (buildRoot !== undefined && u.startsWith(buildRoot)) u = u.slice(buildRoot.length).replace(/^\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) u = u.slice(nm + '/node_modules/'.length);
  return u;
}

function packageOf(short: string): string {
  if (short === '') return '(native / V8)';
  if (short.startsWith('node:')) return short;
  if (short.startsWith('src/')) return short;
  if (short.startsWith('@')) return short.split('/').slice(0, 2).join('/');
  if (!short.includes('/')) return short;
  return short.split('/')[0]!;
}

/**
 * `windowMs`: only samples taken within [from, to] milliseconds after the
 * profile started (the measured window, not the process start-up).
 */
export function summarizeProfile(
  file: string,
  top = 15,
  buildRoot?: string,
  windowMs?: { readonly from: number; readonly to: number },
): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const selfUs = new Map<number, number>();
  // The delta before sample i is the time that sample stands for (V8 convention: the next delta).
  let at = 0;
  let counted = 0;
  for (let i = 0; i < samples.length; i++) {
    at += deltas[i] ?? 0;
    if (windowMs !== undefined && (at < windowMs.from * 1000 || at > windowMs.to * 1000)) continue;
    const dt = deltas[i + 1] ?? deltas[i] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + dt);
    counted++;
  }
  const keyOf = (n: ProfileNode) => {
    const f = n.callFrame;
    const name = f.functionName === '' ? '(anonymous)' : f.functionName;
    const url = shortUrl(f.url, buildRoot);
    return url === '' ? name : `${name} ${url}:${f.lineNumber + 1}`;
  };
  let totalUs = 0;
  let idleUs = 0;
  const self = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const n = byId.get(id)!;
    totalUs += us;
    if (n.callFrame.functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const k = keyOf(n);
    self.set(k, (self.get(k) ?? 0) + us);
    const name = n.callFrame.functionName;
    const pkg = name.startsWith('(') ? name : packageOf(shortUrl(n.callFrame.url, buildRoot));
    byFile.set(pkg, (byFile.get(pkg) ?? 0) + us);
  }
  // Inclusive time of sidekey's own functions: each sample counts once per function on its stack.
  const inclusive = new Map<string, number>();
  const stackKeys = new Map<number, string[]>();
  const keysOnStack = (id: number): string[] => {
    const cached = stackKeys.get(id);
    if (cached !== undefined) return cached;
    const keys = new Set<string>();
    for (let at: number | undefined = id, depth = 0; at !== undefined && depth < 10_000; depth++) {
      const n = byId.get(at)!;
      if (shortUrl(n.callFrame.url, buildRoot).startsWith('src/')) keys.add(keyOf(n));
      at = parent.get(at);
    }
    const list = [...keys];
    stackKeys.set(id, list);
    return list;
  };
  for (const [id, us] of selfUs) {
    if (byId.get(id)!.callFrame.functionName === '(idle)') continue;
    for (const k of keysOnStack(id)) inclusive.set(k, (inclusive.get(k) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const rank = (m: Map<string, number>, n: number): ProfileEntry[] =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => ({
        name,
        ms: Math.round(us / 100) / 10,
        percent: busyUs > 0 ? Math.round((1000 * us) / busyUs) / 10 : 0,
      }));
  return {
    file,
    totalMs: Math.round(totalUs / 1000),
    idleMs: Math.round(idleUs / 1000),
    busyMs: Math.round(busyUs / 1000),
    samples: counted,
    topSelf: rank(self, top),
    topSelfByFile: rank(byFile, 12),
    topInclusiveSidekey: rank(inclusive, top),
  };
}
