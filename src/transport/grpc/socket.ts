/**
 * The unix socket file of the gRPC listener: created with mode 0660 and never
 * wider, a stale file of a crashed process replaced, a live daemon's socket
 * never taken over, our file (and only ours) removed on shutdown.
 *
 * How 0660 holds with no window: the listener is bound inside a fresh private
 * directory (mkdtemp, mode 0700) next to the target, so while the socket still
 * has the mode the umask gave it nobody else can even reach it (a path through
 * a 0700 directory is closed to other users). It is chmod-ed to 0660 there,
 * then hard-linked to the target path. link() is atomic and fails if the
 * target exists, so two daemons starting at once cannot both claim the path
 * (rename() would silently replace the other's socket). A unix socket is
 * reached through its inode, so the listener answers on the new name. Changing
 * the process umask instead would be process-wide and would also affect
 * every file other code creates meanwhile.
 */
import { chmod, link, lstat, mkdir, mkdtemp, rm, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';

export const SOCKET_MODE = 0o660;
/** sun_path is 108 bytes on Linux, with the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;
const PROBE_TIMEOUT_MS = 1_000;

export class SocketInUseError extends Error {
  override readonly name = 'SocketInUseError';
}

interface Identity {
  readonly dev: number;
  readonly ino: number;
}

export interface ClaimedSocket {
  readonly path: string;
  /** Removes the socket file if it is still the one we created. */
  release(): Promise<void>;
}

/**
 * Binds through `bind(tempPath)` (which must leave a listening unix socket at
 * tempPath) and publishes the socket at `path` with mode 0660.
 */
export async function claimSocket(
  path: string,
  bind: (tempPath: string) => Promise<void>,
): Promise<ClaimedSocket> {
  const dir = dirname(path);
  await mkdir(dir, { recursive: true, mode: 0o750 });
  await removeStaleSocket(path);
  const privateDir = await mkdtemp(join(dir, '.sk-'));
  const tempPath = join(privateDir, 's');
  if (Buffer.byteLength(tempPath) > MAX_SOCKET_PATH_BYTES) {
    await rm(privateDir, { recursive: true, force: true });
    throw new Error(
      `SIDEKEY_GRPC_SOCKET: ${path} is too long for a unix socket (at most ${MAX_SOCKET_PATH_BYTES - (tempPath.length - path.length)} bytes here)`,
    );
  }
  try {
    await bind(tempPath);
    await chmod(tempPath, SOCKET_MODE);
    try {
      await link(tempPath, path);
    } catch (err) {
      if (code(err) !== 'EEXIST') throw err;
      // Someone created the path after our check: judge it again, once.
      await removeStaleSocket(path);
      await link(tempPath, path);
    }
    const created = await lstat(tempPath);
    return {
      path,
      release: async () => {
        const now = await lstat(path).catch(() => undefined);
        if (now !== undefined && sameFile(now, created)) await unlink(path).catch(() => {});
      },
    };
  } finally {
    // The listener keeps serving through the published name.
    await rm(privateDir, { recursive: true, force: true });
  }
}

/**
 * Absent: nothing to do. A socket nobody listens on (a crashed daemon's):
 * removed. A socket someone listens on: SocketInUseError. Anything else
 * (a regular file, a directory): refused, never deleted.
 */
export async function removeStaleSocket(path: string): Promise<void> {
  const before = await lstat(path).catch((err: unknown) => {
    if (code(err) === 'ENOENT') return undefined;
    throw err;
  });
  if (before === undefined) return;
  if (!before.isSocket()) {
    throw new Error(`${path} exists and is not a unix socket; refusing to replace it`);
  }
  const state = await probe(path);
  if (state === 'live') {
    throw new SocketInUseError(
      `${path} is in use by a running process (another sidekey?); refusing to take it over`,
    );
  }
  // Remove it only if it is still the file we probed.
  const after = await lstat(path).catch(() => undefined);
  if (after !== undefined && sameFile(after, before)) await unlink(path).catch(() => {});
}

function probe(path: string): Promise<'live' | 'stale'> {
  return new Promise((resolve, reject) => {
    const socket = connect({ path });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve('live'); // it exists and does not refuse: assume someone owns it
    }, PROBE_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve('live');
    });
    socket.once('error', (err) => {
      clearTimeout(timer);
      const c = code(err);
      if (c === 'ECONNREFUSED' || c === 'ENOENT') resolve('stale');
      else reject(new Error(`cannot tell whether ${path} is in use (${c ?? err.message})`));
    });
  });
}

function sameFile(a: Identity, b: Identity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

function code(err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | undefined)?.code;
}
