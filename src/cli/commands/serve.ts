import { startDaemon } from '../../app.js';
import { loadConfig } from '../../config/index.js';
import type { CliIo } from '../io.js';

/**
 * Runs the daemon until SIGTERM/SIGINT, then stops gracefully: stop
 * accepting, finish in-flight requests, flush writes and audit, zero keys.
 * A second signal, or the shutdown timeout, forces exit 1.
 */
export async function serveCommand(io: CliIo): Promise<number> {
  const config = loadConfig(io.env, io.cwd);
  const daemon = await startDaemon(config, { note: (line) => io.stderr(`${line}\n`) });
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        io.stderr(`sidekey: ${signal} again, exiting now\n`);
        process.exit(1);
      }
      stopping = true;
      const timer = setTimeout(() => {
        io.stderr('sidekey: shutdown timed out\n');
        process.exit(1);
      }, config.shutdownTimeoutMs);
      timer.unref();
      daemon.close().then(
        () => resolve(0),
        (err: unknown) => {
          io.stderr(`sidekey: shutdown failed: ${(err as Error).message}\n`);
          resolve(1);
        },
      );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}
