/**
 * `sidekey audit verify --file`: checks an export on its own, with the KEK
 * ring only (no database): each chain's key is unwrapped and every event's
 * MAC recomputed in order from the chain's starting point. The first
 * problem is reported with its line number; a file without its end record
 * (truncated) or with counts that differ from what it holds is refused.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { zeroize } from '../crypto/index.js';
import { type KekRing, kmsContext } from '../kms/index.js';
import { parseLine } from './export-format.js';
import { ChainVerifier } from './verify.js';

export interface ExportChainSummary {
  readonly chainId: string;
  readonly host: string;
  /** The export starts after this event (the chain's anchor then; 0: from the start). */
  readonly afterSeq: number;
  readonly lastSeq: number;
  readonly lastHash: string;
  readonly events: number;
}

export type ExportVerdict =
  | {
      readonly ok: true;
      readonly exportId: string;
      readonly until: string;
      readonly events: number;
      readonly chains: ExportChainSummary[];
    }
  | { readonly ok: false; readonly line: number; readonly problem: string };

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const b = Buffer.alloc(2);
    const { bytesRead } = await fh.read(b, 0, 2, 0);
    return bytesRead === 2 && b[0] === 0x1f && b[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

export async function verifyExportFile(file: string, keks: KekRing): Promise<ExportVerdict> {
  const gzip = await isGzip(file);
  let input: Readable = createReadStream(file);
  if (gzip) input = input.pipe(createGunzip());
  // A corrupt gzip stream ends the read with an error, reported at the line reached.
  let streamError: Error | undefined;
  input.on('error', (err) => {
    streamError = err;
  });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
  let n = 0;
  let header: { exportId: string; until: string } | undefined;
  let current: { verifier: ChainVerifier; key: Buffer; host: string; afterSeq: number } | undefined;
  const chains: ExportChainSummary[] = [];
  let events = 0;
  let ended = false;
  const closeChain = () => {
    if (current === undefined) return;
    chains.push({
      chainId: current.verifier.chainId,
      host: current.host,
      afterSeq: current.afterSeq,
      lastSeq: current.verifier.nextSeq - 1,
      lastHash: current.verifier.lastHash.toString('hex'),
      events: current.verifier.events,
    });
    zeroize(current.key);
    current = undefined;
  };
  const fail = (problem: string): ExportVerdict => {
    if (current !== undefined) zeroize(current.key);
    current = undefined;
    lines.close();
    input.destroy();
    return { ok: false, line: n, problem };
  };
  try {
    for await (const text of lines) {
      n++;
      if (ended) return fail('a record after the end record');
      const parsed = parseLine(text);
      if ('error' in parsed) return fail(parsed.error);
      if (n === 1) {
        if (parsed.type !== 'header') return fail('not a sidekey audit export (no header)');
        header = parsed;
        continue;
      }
      switch (parsed.type) {
        case 'header':
          return fail('a second header');
        case 'chain': {
          closeChain();
          if (chains.some((c) => c.chainId === parsed.chainId))
            return fail(`chain ${parsed.chainId} appears twice`);
          const kek = keks.byRef(parsed.kekRef);
          if (kek === undefined)
            return fail(
              `chain ${parsed.chainId}: its key is wrapped by ${parsed.kekRef}, which is not configured`,
            );
          let key: Buffer;
          try {
            key = await kek.unwrap(parsed.wrappedKey, kmsContext.auditChain(parsed.chainId));
          } catch {
            return fail(`chain ${parsed.chainId}: its key does not unwrap (the chain record was altered)`);
          }
          current = {
            verifier: new ChainVerifier(key, parsed.chainId, parsed.afterSeq, parsed.prevHash),
            key,
            host: parsed.host,
            afterSeq: parsed.afterSeq,
          };
          break;
        }
        case 'event': {
          if (current === undefined || parsed.row.chainId !== current.verifier.chainId)
            return fail(`an event of chain ${parsed.row.chainId} outside its chain's records`);
          const problem = current.verifier.check(parsed.row);
          if (problem !== undefined) return fail(`chain ${parsed.row.chainId}: ${problem}`);
          events++;
          break;
        }
        case 'end':
          closeChain();
          if (parsed.chains !== chains.length || parsed.events !== events)
            return fail(
              `the end record counts ${parsed.chains} chain(s) and ${parsed.events} event(s); the file holds ${chains.length} and ${events}`,
            );
          ended = true;
          break;
      }
    }
  } catch {
    n++;
    return fail('unreadable (a corrupt or truncated gzip stream)');
  }
  if (streamError !== undefined) {
    n++;
    return fail('unreadable (a corrupt or truncated gzip stream)');
  }
  if (n === 0) return { ok: false, line: 1, problem: 'the file is empty' };
  if (!ended) {
    n++;
    return fail('the end record is missing (the export is truncated)');
  }
  return { ok: true, exportId: header!.exportId, until: header!.until, events, chains };
}
