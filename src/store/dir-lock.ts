/**
 * sidekey's own lock on an embedded data directory. PGlite has none, and two
 * processes writing one PGlite directory corrupt it, so every command that
 * opens the embedded store takes this lock first.
 *
 * The lock is a unix socket bound at `<data dir>/sidekey.lock`, owned by a
 * listening server in the locking process. The kernel closes it with the
 * process, however it ends (kill -9 included), so a dead owner can never
 * look alive — unlike a pid file, whose pid can be reused (in a container,
 * by the very next process). A newcomer:
 *
 *   - binds the path: it is the owner;
 *   - EADDRINUSE: connects to it. A live owner answers at once with a
 *     greeting line; a refused connection (nobody listens: the file is left
 *     over), or one closed without a greeting (the owner is dying: its
 *     descriptors are being closed), means the lock is free: the newcomer
 *     removes the file and binds again.
 *
 * An owner whose event loop is blocked longer than GREETING_TIMEOUT_MS is
 * taken for alive: refusing is the safe error.
 */
import { lstatSync, readFileSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';

export const LOCK_FILE = 'sidekey.lock';

const GREETING = 'sidekey-lock';
const GREETING_TIMEOUT_MS = 3_000;
/** sun_path is 108 bytes on Linux, including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export class DataDirLockedError extends Error {
  override readonly name = 'DataDirLockedError';
  constructor(
    readonly dir: string,
    readonly pid: number | undefined,
  ) {
    super(
      `data directory ${dir} is in use by another sidekey process${pid === undefined ? '' : ` (pid ${pid})`}; stop it first, or point SIDEKEY_DATA_DIR elsewhere`,
    );
  }
}

export interface DirLock {
  release(): void;
}

type Probe = { readonly alive: true; readonly pid: number | undefined } | { readonly alive: false };

/** Connects to the lock socket: a live owner greets with its pid. */
function probe(path: string): Promise<Probe> {
  return new Promise((resolve) => {
    let text = '';
    let done = false;
    const socket = createConnection(path);
    const finish = (p: Probe) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(p);
    };
    // A blocked owner is still an owner.
    const timer = setTimeout(() => finish({ alive: true, pid: undefined }), GREETING_TIMEOUT_MS);
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      const m = new RegExp(`^${GREETING} (\\d+)\\n`).exec(text);
      if (m !== null) finish({ alive: true, pid: Number(m[1]) });
      else if (text.includes('\n') || text.length > 64) finish({ alive: true, pid: undefined });
    });
    socket.on('end', () => finish({ alive: false }));
    socket.on('close', () => finish({ alive: false }));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // ECONNREFUSED: a socket file nobody listens on. ENOENT: removed meanwhile.
      if (err.code === 'ECONNREFUSED' || err.code === 'ENOENT') finish({ alive: false });
      else finish({ alive: true, pid: undefined });
    });
  });
}

function listen(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((socket) => {
      socket.on('error', () => {});
      socket.end(`${GREETING} ${process.pid}\n`);
    });
    server.once('error', reject);
    server.listen({ path, exclusive: true }, () => {
      server.off('error', reject);
      server.on('error', () => {});
      // The lock never keeps the process alive on its own.
      server.unref();
      resolve(server);
    });
  });
}

function inode(path: string): number | undefined {
  try {
    return lstatSync(path).ino;
  } catch {
    return undefined;
  }
}

/** A pid-file lock of an earlier sidekey release, held by a live process. */
function legacyOwner(path: string): number | undefined {
  try {
    if (!lstatSync(path).isFile()) return undefined;
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM' ? -1 : undefined;
  }
}

export async function lockDataDir(dir: string): Promise<DirLock> {
  const path = join(dir, LOCK_FILE);
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new Error(
      `data directory ${dir} is too long a path for its lock socket (${path} is over ${MAX_SOCKET_PATH} bytes); use a shorter SIDEKEY_DATA_DIR`,
    );
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const server = await listen(path);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          // close() removes the socket file it bound.
          server.close();
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
    const legacy = legacyOwner(path);
    if (legacy !== undefined) throw new DataDirLockedError(dir, legacy > 0 ? legacy : undefined);
    const probed = inode(path);
    const p = await probe(path);
    if (p.alive) throw new DataDirLockedError(dir, p.pid);
    // Left over by a process that is gone: remove it and bind again — unless
    // another newcomer already replaced it (then the next probe meets it).
    if (probed !== undefined && inode(path) === probed) {
      try {
        unlinkSync(path);
      } catch {
        // someone else removed it first
      }
    }
  }
  throw new Error(`could not lock data directory ${dir}`);
}
