/**
 * `sidekey audit export`: writes, per chain, the events before the cut
 * (store.auditLog.rangesBefore) with the chain records verification needs,
 * as JSON lines (export-format.ts; gzip when the name ends in `.gz`). The
 * file is written beside its final name and renamed once complete and
 * synced; only then is the export recorded, so a failed export never
 * covers a prune.
 */
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, createWriteStream, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import type { Writable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { AuditRange, Store } from '../store/index.js';
import { GENESIS_HASH } from './chain.js';
import { chainLine, endLine, eventLine, headerLine } from './export-format.js';

export interface ExportResult {
  readonly exportId: string;
  readonly file: string;
  readonly chains: number;
  readonly events: number;
  readonly sha256: string;
}

const PAGE = 1000;

export class ExportFileExistsError extends Error {
  override readonly name = 'ExportFileExistsError';
}

export async function exportAudit(
  store: Pick<Store, 'listAuditChains' | 'readAuditEvents' | 'auditLog'>,
  until: Date,
  file: string,
  now: Date = new Date(),
): Promise<ExportResult> {
  if (existsSync(file)) throw new ExportFileExistsError(`${file} exists: an export never overwrites a file`);
  const exportId = randomBytes(16).toString('hex');
  const ranges = await store.auditLog.rangesBefore(until);
  const anchors = new Map((await store.auditLog.anchors()).map((a) => [a.chainId, a]));
  const chains = new Map((await store.listAuditChains()).map((c) => [c.chainId, c]));
  const partial = `${file}.partial-${exportId.slice(0, 8)}`;
  const out = createWriteStream(partial, { flags: 'wx', mode: 0o600 });
  const gzip = file.endsWith('.gz') ? createGzip() : undefined;
  if (gzip !== undefined) gzip.pipe(out);
  const sink: Writable = gzip ?? out;
  const digest = createHash('sha256');
  const write = async (line: string) => {
    digest.update(line, 'utf8');
    if (!sink.write(line)) await once(sink, 'drain');
  };
  const written: AuditRange[] = [];
  let events = 0;
  try {
    await write(headerLine({ exportId, until, createdAt: now }));
    for (const range of ranges) {
      const chain = chains.get(range.chainId);
      if (chain === undefined) continue;
      const anchor = anchors.get(range.chainId);
      await write(chainLine({ chain, afterSeq: range.fromSeq - 1, prevHash: anchor?.hash ?? GENESIS_HASH }));
      let after = range.fromSeq - 1;
      let lastHash: Buffer | undefined;
      while (after < range.toSeq) {
        const page = await store.readAuditEvents(range.chainId, after, Math.min(PAGE, range.toSeq - after));
        if (page.length === 0) break;
        for (const row of page) {
          if (row.seq > range.toSeq) break;
          await write(eventLine(row));
          events++;
          after = row.seq;
          lastHash = row.hash;
        }
      }
      if (lastHash !== undefined) written.push({ ...range, toSeq: after, toHash: lastHash });
    }
    await write(endLine(written.length, events));
    sink.end();
    await once(out, 'close');
    const fd = openSync(partial, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(partial, file);
  } catch (err) {
    out.destroy();
    rmSync(partial, { force: true });
    throw err;
  }
  const sha256 = digest.digest('hex');
  await store.auditLog.recordExport({ exportId, until, events, chains: written.length, sha256 }, written);
  return { exportId, file, chains: written.length, events, sha256 };
}
