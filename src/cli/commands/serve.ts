import { type Daemon, startDaemon } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import type { CliIo } from '../io.js';

/**
 * Runs the daemon until SIGTERM/SIGINT, then stops gracefully: stop
 * accepting, finish in-flight requests, flush writes and audit, zero keys.
 * A second signal, or the shutdown timeout, forces exit 1.
 */
export async function serveCommand(io: CliIo): Promise<number> {
  const config = loadConfig(io.env, io.cwd);
  // Signal handlers first: a SIGTERM that arrives while the daemon starts
  // (as PID 1 in a container an unhandled one is ignored) still stops it.
  let daemon: Daemon | undefined;
  let stopRequested: NodeJS.Signals | undefined;
  let resolveExit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => {
    resolveExit = resolve;
  });
  const stop = (signal: NodeJS.Signals) => {
    if (stopRequested !== undefined && daemon !== undefined) {
      io.stderr(`sidekey: ${signal} again, exiting now\n`);
      process.exit(1);
    }
    stopRequested = signal;
    if (daemon === undefined) return; // still starting: stopped as soon as it is up
    const timer = setTimeout(() => {
      io.stderr('sidekey: shutdown timed out\n');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    daemon.close().then(
      () => resolveExit(0),
      (err: unknown) => {
        io.stderr(`sidekey: shutdown failed: ${(err as Error).message}\n`);
        resolveExit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  try {
    daemon = await startDaemon(config, { note: (line) => io.stderr(`${line}\n`) });
  } catch (err) {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
    throw err;
  }
  // A signal that came while starting: stop now (as the first signal, not a second one).
  const early = stopRequested;
  stopRequested = undefined;
  if (early !== undefined) stop(early);
  return exited;
}
