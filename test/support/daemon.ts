/**
 * Starts real sidekey daemons for integration tests: the real composition
 * root, the real HTTP listener on an ephemeral loopback port, the embedded
 * store in a fresh data directory. Logs are captured so tests can prove no
 * secret reaches them.
 *
 * PGlite's first start runs initdb (~3 s); a template data directory is
 * made once per test process and copied for each daemon.
 */
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { PGlite } from '@electric-sql/pglite';
import { type Daemon, startDaemon } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { createLoggers } from '../../src/observability/index.js';

/** Every log line written by every daemon of this process. */
export const capturedLogs: string[] = [];

let template: Promise<string> | undefined;

/** A PGlite data directory that has been initialised once (not migrated). */
function templatePgdata(): Promise<string> {
  template ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sidekey-template-'));
    const pgdata = join(dir, 'pgdata');
    const db = await PGlite.create(pgdata);
    await db.close();
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    return pgdata;
  })();
  return template;
}

/** A fresh data directory with an initialised (empty) embedded database. */
export async function freshDataDir(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'sidekey-test-'));
  cpSync(await templatePgdata(), join(dir, 'pgdata'), { recursive: true });
  return dir;
}

export interface TestDaemon {
  readonly daemon: Daemon;
  readonly dataDir: string;
  readonly url: string;
  /** The demo tenant's ORK string (first start). */
  readonly ork: string;
  stop(): Promise<void>;
  /** Stops and removes the data directory. */
  destroy(): Promise<void>;
}

export async function startTestDaemon(
  env: Record<string, string> = {},
  options: { dataDir?: string } = {},
): Promise<TestDaemon> {
  const dataDir = options.dataDir ?? (await freshDataDir());
  const config = loadConfig(
    { SIDEKEY_DATA_DIR: dataDir, SIDEKEY_HTTP_PORT: '0', SIDEKEY_LOG_LEVEL: 'debug', ...env },
    process.cwd(),
  );
  const sink = new Writable({
    write(chunk, _enc, done) {
      capturedLogs.push(String(chunk));
      done();
    },
  });
  const notes: string[] = [];
  const daemon = await startDaemon(config, {
    loggers: createLoggers('debug', sink),
    note: (line) => notes.push(line),
  });
  capturedLogs.push(...notes);
  const orkFile = join(dataDir, 'demo.ork');
  const ork = existsSync(orkFile) ? readFileSync(orkFile, 'utf8').trim() : '';
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await daemon.close();
  };
  return {
    daemon,
    dataDir,
    url: `http://127.0.0.1:${daemon.httpPort}`,
    ork,
    stop,
    async destroy() {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
