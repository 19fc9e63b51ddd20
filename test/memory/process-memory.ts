/**
 * Searching another process's memory (Linux): every private writable
 * mapping of /proc/<pid>/maps — the V8 heap, the C heap where OpenSSL and
 * Node keep their copies, thread stacks — read through /proc/<pid>/mem, and
 * the strings of a V8 heap snapshot. Reading another process's memory needs
 * ptrace rights over it: root, or its parent under Yama ptrace_scope ≤ 1.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

export interface Region {
  readonly start: bigint;
  readonly end: bigint;
  readonly name: string;
}

/** Private writable mappings: where a process's own data lives (libraries' code and read-only data left out). */
export function writableRegions(pid: number): Region[] {
  const out: Region[] = [];
  for (const line of readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (m === null) continue;
    const [, from, to, perms, name] = m as unknown as [string, string, string, string, string];
    if (perms[0] !== 'r' || perms[1] !== 'w' || perms[3] !== 'p') continue;
    if (name === '[vvar]' || name === '[vsyscall]') continue;
    out.push({ start: BigInt(`0x${from}`), end: BigInt(`0x${to}`), name });
  }
  return out;
}

export interface Needle {
  readonly name: string;
  readonly bytes: Buffer;
}

export interface MemoryScan {
  /** Bytes actually read. */
  readonly scanned: number;
  /** Names of the needles found, with the mapping they were found in. */
  readonly hits: { name: string; region: string }[];
}

const CHUNK = 4 * 1024 * 1024;

/** Searches every private writable mapping of `pid` for each needle. */
export function scanProcessMemory(pid: number, needles: readonly Needle[]): MemoryScan {
  const longest = Math.max(...needles.map((n) => n.bytes.length));
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  const hits: { name: string; region: string }[] = [];
  const seen = new Set<string>();
  let scanned = 0;
  const buf = Buffer.alloc(CHUNK + longest);
  try {
    for (const region of writableRegions(pid)) {
      let carry = 0;
      for (let at = region.start; at < region.end; at += BigInt(CHUNK)) {
        const want = Number(region.end - at < BigInt(CHUNK) ? region.end - at : BigInt(CHUNK));
        let got = 0;
        try {
          got = readSync(fd, buf, carry, want, at);
        } catch {
          carry = 0; // a guard page or a mapping that went away
          continue;
        }
        scanned += got;
        const view = buf.subarray(0, carry + got);
        for (const n of needles) {
          if (!seen.has(n.name) && view.includes(n.bytes)) {
            seen.add(n.name);
            hits.push({ name: n.name, region: region.name || '(anonymous)' });
          }
        }
        // Keep the tail so a needle across a chunk boundary is found.
        carry = Math.min(longest - 1, view.length);
        view.copy(buf, 0, view.length - carry);
      }
    }
  } finally {
    closeSync(fd);
    buf.fill(0);
  }
  return { scanned, hits };
}

/** Every string of a V8 heap snapshot file (the `strings` table holds each string once). */
export function heapSnapshotStrings(file: string): string[] {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as { strings: string[] };
  return snapshot.strings;
}
