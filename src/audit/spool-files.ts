/**
 * The audit spool's files: reading what earlier processes left (cut at the
 * first torn frame or chain break), positional writes, directory syncs.
 * docs/formats.md §20; the spool itself is spool.ts.
 */
import { readdirSync, readFileSync, renameSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { AuditRow } from '../store/index.js';
import { decodeSegment, SEGMENT_FILE, type SpoolChain } from './spool-format.js';

export interface Segment {
  readonly number: number;
  readonly file: string;
  rows: number;
  committed: number;
  /** No more rows will be appended (a later segment exists, or the segment was left by another process). */
  sealed: boolean;
}

export interface FoundChain {
  readonly chain: SpoolChain;
  readonly rows: AuditRow[];
  readonly segments: { segment: Segment; rows: AuditRow[] }[];
}

/**
 * Reads every segment in the directory, per chain in segment order. A chain
 * is cut at its first torn frame, gap in seq or broken prev_hash link:
 * nothing after it was acknowledged.
 */
export function readLeftovers(dir: string, log: Logger): FoundChain[] {
  const byChain = new Map<string, { number: number; file: string }[]>();
  for (const file of readdirSync(dir)) {
    const m = SEGMENT_FILE.exec(file);
    if (!m) continue;
    const list = byChain.get(m[1]!) ?? [];
    list.push({ number: Number(m[2]), file });
    byChain.set(m[1]!, list);
  }
  const found: FoundChain[] = [];
  for (const [chainId, files] of byChain) {
    files.sort((a, b) => a.number - b.number);
    let chain: SpoolChain | undefined;
    let last: AuditRow | undefined;
    let cut = false;
    const all: AuditRow[] = [];
    const segments: { segment: Segment; rows: AuditRow[] }[] = [];
    for (const f of files) {
      const decoded = cut ? undefined : decodeSegment(readFileSync(join(dir, f.file)));
      const rows: AuditRow[] = [];
      if (
        decoded !== undefined &&
        decoded.header.chainId === chainId &&
        decoded.header.segment === f.number
      ) {
        chain ??= {
          chainId,
          kekRef: decoded.header.kekRef,
          wrappedKey: decoded.header.wrappedKey,
          host: decoded.header.host,
        };
        for (const r of decoded.rows) {
          const follows = last === undefined ? true : r.seq === last.seq + 1 && r.prevHash.equals(last.hash);
          if (!follows) {
            cut = true;
            break;
          }
          rows.push(r);
          all.push(r);
          last = r;
        }
        if (decoded.tornBytes > 0) cut = true;
      } else {
        cut = true;
      }
      segments.push({
        segment: { number: f.number, file: f.file, rows: rows.length, committed: 0, sealed: true },
        rows,
      });
    }
    if (cut)
      log.warn(
        { chain: chainId, events: all.length },
        'audit spool of an earlier process ends in a torn write; replaying up to it',
      );
    if (chain === undefined) {
      // Not even a header (a segment created, never synced): renamed, kept for a person to look at.
      for (const f of files) renameSync(join(dir, f.file), join(dir, `${f.file}.damaged`));
      log.warn(
        { chain: chainId, files: files.length },
        'unreadable audit spool segments set aside (.damaged)',
      );
      continue;
    }
    found.push({ chain, rows: all, segments });
  }
  return found;
}

export async function writeFully(handle: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

export async function syncDir(dir: string): Promise<void> {
  const h = await open(dir, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}
