/**
 * What the key-lifecycle commands share: confirmation of destructive
 * actions, audit events that always record an outcome, the keyring of a
 * command, Ctrl-C handling and progress output. Nothing here prints a value,
 * a key or an ORK.
 */
import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import type { AuditEvent } from '../audit/index.js';
import { systemRandom } from '../crypto/index.js';
import { SidekeyError } from '../errors/index.js';
import { Keyring, SubjectKeys } from '../keyring/index.js';
import type { MoveProgress } from '../lifecycle/index.js';
import type { AdminContext } from './admin-context.js';
import { flag, option, type Parsed } from './args.js';
import { CliError, type CliIo, usageError } from './io.js';

/**
 * Destructive commands: on a terminal the operator types `expected` (the
 * tenant name); otherwise `--yes` is required.
 */
export async function confirmDestructive(
  io: CliIo,
  args: Parsed,
  what: string,
  expected: string,
): Promise<void> {
  if (flag(args, 'yes')) return;
  if (io.prompt === undefined) {
    throw usageError(`${what}: refusing without --yes (not a terminal to confirm on)`);
  }
  io.stderr(`${what}\n`);
  const answer = await io.prompt(`type ${JSON.stringify(expected)} to confirm: `);
  if (answer.trim() !== expected) throw new CliError('not confirmed; nothing was changed');
}

/** Who ran a lifecycle action: the OS user and host of the CLI (the database role is in the store log). */
function actor(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers with arbitrary uids)
  }
  return `${user}@${hostname()}`;
}

export type LifecycleEvent = Omit<AuditEvent, 'time' | 'caller' | 'outcome'>;

/**
 * Runs `work` and records its audit event either way: `ok`, or the error
 * code of the failure (who, what, when, outcome). `work` may add details.
 */
export async function audited<T>(
  ctx: AdminContext,
  event: LifecycleEvent,
  work: (
    detail: Record<string, string | number | boolean>,
    set: (e: Partial<LifecycleEvent>) => void,
  ) => Promise<T>,
): Promise<T> {
  const detail: Record<string, string | number | boolean> = { ...event.detail, actor: actor() };
  let e: LifecycleEvent = event;
  const set = (more: Partial<LifecycleEvent>) => {
    e = { ...e, ...more };
  };
  try {
    const result = await work(detail, set);
    await ctx.audit({ ...e, outcome: 'ok', detail });
    return result;
  } catch (err) {
    const outcome =
      err instanceof SidekeyError ? err.code : err instanceof CliError ? 'FAILED_PRECONDITION' : 'INTERNAL';
    await ctx.audit({ ...e, outcome, detail }).catch(() => {});
    throw err;
  }
}

/** A keyring for one command: the same derivations and checks as a sidecar. */
export function commandKeyring(ctx: AdminContext): Keyring {
  return new Keyring({
    store: ctx.store,
    keks: ctx.keks,
    options: {
      tekTtlMs: ctx.config.caches.tekTtlMs,
      orkTtlMs: ctx.config.caches.orkTtlMs,
      maxKeys: ctx.config.caches.maxKeys,
    },
  });
}

/** Data subjects' keys for one command (re-encryption of subjects' records). */
export function commandSubjectKeys(ctx: AdminContext): SubjectKeys {
  return new SubjectKeys({
    store: ctx.store,
    keks: ctx.keks,
    random: systemRandom,
    options: { ttlMs: ctx.config.caches.tekTtlMs, maxKeys: ctx.config.caches.maxKeys },
  });
}

/** The ORK string in a file (as `ork issue` printed it). The message never shows the content. */
export function readOrkFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (err) {
    throw new CliError(`cannot read ${what} ${path}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if (text === '' || text.includes('\n')) throw new CliError(`${what} ${path} must hold one ORK string`);
  return text;
}

export function intOption(args: Parsed, name: string, dflt: number, min: number, max: number): number {
  const v = option(args, name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw usageError(`--${name} must be an integer from ${min} to ${max}`);
  }
  return n;
}

/**
 * Ctrl-C (SIGINT) and SIGTERM ask a long command to stop after the batch in
 * hand; a second signal is left to its default (the process ends; still
 * safe, each batch is one transaction).
 */
export function stopOnSignal(): { readonly stopped: () => boolean; dispose(): void } {
  let stop = false;
  const handler = (signal: NodeJS.Signals) => {
    if (stop) {
      dispose();
      process.kill(process.pid, signal);
      return;
    }
    stop = true;
  };
  const dispose = () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return { stopped: () => stop, dispose };
}

/** Progress of a record move: a bar on a terminal, JSON lines otherwise (both on stderr). */
export function progressReporter(
  io: CliIo,
  label: Record<string, string>,
): { update(p: MoveProgress): void; end(): void } {
  let last = 0;
  let drawn = false;
  return {
    update(p) {
      if (io.terminal === true) {
        const now = Date.now();
        if (now - last < 100 && p.done < p.total) return;
        last = now;
        const width = 30;
        const ratio = p.total === 0 ? 1 : Math.min(1, p.done / p.total);
        const filled = Math.round(ratio * width);
        io.stderr(
          `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.floor(ratio * 100)).padStart(3)}% ` +
            `${p.done}/${p.total} moved ${p.moved}, skipped ${p.skipped}, unreadable ${p.unreadable}, forgotten ${p.forgotten} (pass ${p.pass})`,
        );
        drawn = true;
      } else {
        io.stderr(`${JSON.stringify({ event: 'progress', ...label, ...p })}\n`);
      }
    },
    end() {
      if (drawn) io.stderr('\n');
    },
  };
}
