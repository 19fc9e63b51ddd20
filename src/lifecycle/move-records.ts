/**
 * Moving token records to another key: `sidekey reencrypt` (same ORK, to the
 * primary TEK version) and `sidekey ork rotate` (to a new ORK id, at the
 * primary version). Decrypting needs the ORK (DESIGN.md principle 1), so the
 * caller supplies ORK identities; the keyring derives every FDK, nothing is
 * derived here.
 *
 * Invariants:
 * - Resumable by construction: the records still to move are selected by
 *   their current key (`ork_id = from` and, for re-encryption, `tek_version
 *   <> target`), so a re-run after a crash or Ctrl-C picks up exactly what is
 *   left. A batch is one transaction: after SIGKILL it is all or nothing.
 * - Optimistic: a record is replaced only if it is still exactly what was
 *   read (store.replaceTokenEnvelopes). A concurrently deleted record is never
 *   resurrected; one changed meanwhile is skipped and looked at again in the
 *   next pass. A record already under the target key is never selected, so it
 *   is never re-sealed twice.
 * - Nothing is missed: records written under the old key while a pass runs
 *   (a sidecar that has not yet heard of a rotation, an application still
 *   using the old ORK) sort anywhere among the random tokens, so passes repeat
 *   until one finds nothing left to move (at most `maxPasses`).
 * - The AAD binds token, tenant, field, version and ORK id, so the new
 *   envelope is sealed with the binding of its new place.
 * - Plaintext lives only between open and seal, and is zeroed.
 * - A data subject's record (issue 13) keeps its subject: it is opened and
 *   sealed again under FDK_s with the same subject key, whose id the row
 *   keeps. A record whose subject was forgotten is erased already: nobody
 *   can open it, so it is relabelled (the target ORK and version, the same
 *   envelope) instead of blocking the move for ever. It keeps answering
 *   FAILED_PRECONDITION (the reader looks up the subject key first) and
 *   no longer holds back `ork rotate` or `keys retire`.
 */
import { openRecord, type RandomSource, sealRecord, subjectFdk, zeroize } from '../crypto/index.js';
import { SidekeyError } from '../errors/index.js';
import type { Keyring, OrkIdentity, SubjectKeys } from '../keyring/index.js';
import type { Store, TokenReplacement, TokenRow } from '../store/index.js';

export interface MoveDeps {
  readonly store: Pick<Store, 'listTokensToMove' | 'countTokensToMove' | 'replaceTokenEnvelopes'>;
  readonly keyring: Pick<Keyring, 'fdk'>;
  /** Data subjects' keys by id (records with a subject). */
  readonly subjects: Pick<SubjectKeys, 'byId'>;
  readonly random: RandomSource;
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface MoveOptions {
  readonly tenant: string;
  readonly from: OrkIdentity;
  /** The same identity as `from` to re-encrypt under another TEK version only. */
  readonly to: OrkIdentity;
  readonly targetVersion: number;
  readonly batchSize: number;
  /** Pause after each batch (throttle). */
  readonly throttleMs: number;
  readonly maxPasses?: number;
  readonly onProgress?: (p: MoveProgress) => void;
  /** Checked between batches (Ctrl-C): stop cleanly, resumable. */
  readonly shouldStop?: () => boolean;
}

export interface MoveProgress {
  /** Records to move when the run (or this pass) began, at least `done`. */
  readonly total: number;
  readonly done: number;
  readonly moved: number;
  /** Changed or deleted concurrently: not touched. */
  readonly skipped: number;
  /** Could not be opened with the old key (retired/destroyed version, failed integrity). */
  readonly unreadable: number;
  /** Of a forgotten data subject: relabelled to the target, envelope unchanged (erased already). */
  readonly forgotten: number;
  readonly pass: number;
}

export interface MoveResult extends MoveProgress {
  /** The last pass found nothing left to move (unreadable records aside). */
  readonly complete: boolean;
  readonly interrupted: boolean;
}

const DEFAULT_MAX_PASSES = 5;

export async function moveRecords(deps: MoveDeps, opts: MoveOptions): Promise<MoveResult> {
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const sameOrk = opts.from.orkId === opts.to.orkId;
  const select = {
    tenant: opts.tenant,
    orkId: opts.from.orkId,
    ...(sameOrk && { exceptVersion: opts.targetVersion }),
  };
  const fdks = new Map<string, Buffer | SidekeyError>();
  const fdk = async (id: OrkIdentity, field: string, version: number): Promise<Buffer | SidekeyError> => {
    const key = `${id.orkId}\u0000${field}\u0000${version}`;
    let k = fdks.get(key);
    if (k === undefined) {
      try {
        k = await deps.keyring.fdk(id, field, version);
      } catch (err) {
        // A retired or destroyed version: these records cannot move (reported).
        if (!(err instanceof SidekeyError) || err.code !== 'FAILED_PRECONDITION') throw err;
        k = err;
      }
      fdks.set(key, k);
    }
    return k;
  };

  const subjectKeys = new Map<string, Buffer | undefined>();
  /** A subject's key by id (cached for the run), undefined once forgotten. */
  const subjectKey = async (keyId: string): Promise<Buffer | undefined> => {
    if (!subjectKeys.has(keyId)) subjectKeys.set(keyId, await deps.subjects.byId(opts.tenant, keyId));
    return subjectKeys.get(keyId);
  };
  /** FDK_s of a subject's record (a new buffer the caller zeroes), `fdk` itself without one, undefined once forgotten. */
  const sealingKey = async (
    fdkKey: Buffer,
    keyId: string | null | undefined,
  ): Promise<Buffer | undefined> => {
    if (keyId === null || keyId === undefined) return fdkKey;
    const key = await subjectKey(keyId);
    return key === undefined ? undefined : subjectFdk(fdkKey, key, opts.tenant, keyId);
  };
  /** The same envelope under the target's labels: for a record nobody can open any more. */
  const relabel = (row: TokenRow): TokenReplacement => ({
    token: row.token,
    from: { orkId: row.orkId, tekVersion: row.tekVersion, envelope: row.envelope },
    to: { orkId: opts.to.orkId, tekVersion: opts.targetVersion, envelope: row.envelope },
  });

  let p: MoveProgress = { total: 0, done: 0, moved: 0, skipped: 0, unreadable: 0, forgotten: 0, pass: 0 };
  const report = () => opts.onProgress?.(p);
  const maxPasses = opts.maxPasses ?? DEFAULT_MAX_PASSES;
  let complete = false;
  try {
    while (!complete && p.pass < maxPasses) {
      // Unreadable records are selected again by every pass: count them per pass.
      const remaining = await deps.store.countTokensToMove(select);
      p = { ...p, pass: p.pass + 1, unreadable: 0, total: p.moved + p.skipped + p.forgotten + remaining };
      p = { ...p, done: p.moved + p.skipped + p.forgotten };
      report();
      let after = '';
      let touched = 0; // moved or skipped in this pass: if any, look again
      for (;;) {
        if (opts.shouldStop?.()) return { ...p, complete: false, interrupted: true };
        const rows = await deps.store.listTokensToMove({
          ...select,
          afterToken: after,
          limit: opts.batchSize,
        });
        if (rows.length === 0) break;
        after = rows[rows.length - 1]!.token;
        const updates: TokenReplacement[] = [];
        let unreadable = 0;
        const relabels: TokenReplacement[] = [];
        for (const row of rows) {
          if (typeof row.subjectKeyId === 'string' && (await subjectKey(row.subjectKeyId)) === undefined) {
            relabels.push(relabel(row));
            continue;
          }
          const oldFdk = await fdk(opts.from, row.field, row.tekVersion);
          const oldKey = Buffer.isBuffer(oldFdk) ? await sealingKey(oldFdk, row.subjectKeyId) : undefined;
          let plain: Buffer | undefined;
          try {
            plain = oldKey === undefined ? undefined : openRecord(oldKey, row, row.envelope);
          } finally {
            if (oldKey !== oldFdk) zeroize(oldKey);
          }
          if (plain === undefined) {
            unreadable++;
            continue;
          }
          let newKey: Buffer | undefined;
          let newFdk: Buffer | SidekeyError | undefined;
          try {
            newFdk = await fdk(opts.to, row.field, opts.targetVersion);
            if (!Buffer.isBuffer(newFdk)) throw newFdk; // the target version itself is unusable: stop
            newKey = await sealingKey(newFdk, row.subjectKeyId);
            if (newKey === undefined) {
              relabels.push(relabel(row)); // forgotten between the check and the seal
              continue;
            }
            const binding = {
              token: row.token,
              tenant: row.tenant,
              field: row.field,
              tekVersion: opts.targetVersion,
              orkId: opts.to.orkId,
            };
            updates.push({
              token: row.token,
              from: { orkId: row.orkId, tekVersion: row.tekVersion, envelope: row.envelope },
              to: {
                orkId: opts.to.orkId,
                tekVersion: opts.targetVersion,
                envelope: sealRecord(newKey, binding, plain, deps.random),
              },
            });
          } finally {
            zeroize(plain);
            if (newKey !== newFdk) zeroize(newKey);
          }
        }
        const moved = await deps.store.replaceTokenEnvelopes(opts.tenant, updates);
        const forgotten =
          relabels.length === 0 ? 0 : await deps.store.replaceTokenEnvelopes(opts.tenant, relabels);
        touched += updates.length + relabels.length;
        const next = {
          moved: p.moved + moved,
          skipped: p.skipped + (updates.length - moved) + (relabels.length - forgotten),
          unreadable: p.unreadable + unreadable,
          forgotten: p.forgotten + forgotten,
        };
        const done = next.moved + next.skipped + next.unreadable + next.forgotten;
        p = { ...p, ...next, done, total: Math.max(p.total, done) };
        report();
        if (opts.throttleMs > 0) await sleep(opts.throttleMs);
      }
      if (touched === 0) complete = true;
    }
    return { ...p, complete, interrupted: false };
  } finally {
    for (const k of fdks.values()) if (Buffer.isBuffer(k)) zeroize(k);
    for (const k of subjectKeys.values()) zeroize(k);
  }
}
