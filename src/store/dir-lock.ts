/**
 * sidekey's own lock on an embedded data directory. PGlite has none, and two
 * processes writing one PGlite directory corrupt it, so every command that
 * opens the embedded store takes this lock first.
 *
 * The lock is a file created with O_EXCL holding the owner's pid. A lock
 * whose pid no longer runs (a crashed or SIGKILLed daemon) is stale and is
 * taken over; a live owner is never displaced.
 */
import { closeSync, constants, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const LOCK_FILE = 'sidekey.lock';

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dir: string,
    readonly pid: number,
  ) {
    super(
      `data directory ${dir} is in use by another sidekey process (pid ${pid}); stop it first, or point SIDEKEY_DATA_DIR elsewhere`,
    );
  }
}

export interface DirLock {
  release(): void;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function lockDataDir(dir: string): DirLock {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          try {
            if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
          } catch {
            // already gone
          }
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = Number.NaN;
    try {
      owner = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    } catch {
      continue; // removed between our open and read: try again
    }
    if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && pidAlive(owner)) {
      throw new DataDirLockedError(dir, owner);
    }
    // Stale (dead owner, or unreadable content): remove and retry.
    try {
      unlinkSync(path);
    } catch {
      // someone else removed it first
    }
  }
  throw new Error(`could not lock data directory ${dir}`);
}
