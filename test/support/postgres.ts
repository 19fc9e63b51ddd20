/**
 * A throwaway PostgreSQL for the test run, set up the way production should
 * be: TLS on with certificates from `sidekey certs dev`, and TCP logins only
 * by client certificate (`hostssl … cert`). The harness's own admin access is
 * a unix socket inside the instance's private (0700) temp directory.
 *
 * PostgreSQL refuses to run as root, so as root initdb/postgres run as the
 * `postgres` user (runuser) and the data directory and server key belong to
 * it. Binaries come from /usr/lib/postgresql/<highest version>/bin
 * (installed by .ci/postgres-install.sh). Each call makes its own instance on
 * a free port, so test files can run in parallel. Defaults are kept (fsync
 * on): durability tests rely on them; only initdb's final sync is skipped.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { generateDevCerts } from '../../src/certs/index.js';
import { issueCertificate, type PemPair } from '../../src/certs/x509.js';

export const SIDECAR_ROLE = 'sidekey';
export const OPERATOR_ROLE = 'sidekey_ops';
export const DATABASE = 'sidekey';

export interface PostgresOptions {
  /** subjectAltNames of the server certificate. Default localhost, 127.0.0.1, ::1. */
  readonly serverAltNames?: readonly string[];
}

export interface TestPostgres {
  /** `postgres://role@127.0.0.1:port/sidekey` (role default: the sidecar role). */
  url(role?: string): string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly certsDir: string;
  /** The development CA trusted by the server (also for verifying the server). */
  readonly caFile: string;
  readonly ca: PemPair;
  clientCert(role?: string): { certFile: string; keyFile: string };
  /** Connection settings for openPostgresStore / listenKeyEvents. */
  connection(role?: string): { url: string; caFile: string; certFile: string; keyFile: string };
  /**
   * Replaces the CA bundle the server trusts for client certificates (PEM text,
   * possibly several certificates) and reloads the server configuration.
   */
  setClientCaBundle(pem: string): Promise<void>;
  start(): Promise<void>;
  /** Fast shutdown (open sessions are terminated). */
  stop(): Promise<void>;
  /** Immediate shutdown, like a crash. */
  crash(): Promise<void>;
  restart(): Promise<void>;
  /** As the superuser over the private unix socket, in database `sidekey` unless told. */
  adminQuery<R = Record<string, unknown>>(sql: string, params?: unknown[], database?: string): Promise<R[]>;
  /** A connected superuser session (the caller ends it): to hold a lock or a transaction open. */
  adminClient(database?: string): Promise<pg.Client>;
  /** Runs a psql script file as the superuser over the private unix socket; returns its output. */
  psqlFile(file: string, database?: string): string;
  /** Stops the server and removes every file. */
  destroy(): Promise<void>;
}

/** The settings of API.md that point sidekey at the harness PostgreSQL as `role`. */
export function postgresEnv(pg: TestPostgres, role: string = SIDECAR_ROLE): Record<string, string> {
  const c = pg.connection(role);
  return {
    SIDEKEY_STORE: 'postgres',
    SIDEKEY_PG_URL: c.url,
    SIDEKEY_PG_CA_FILE: c.caFile,
    SIDEKEY_PG_CERT_FILE: c.certFile,
    SIDEKEY_PG_KEY_FILE: c.keyFile,
  };
}

export function findPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'postgres')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions[0] === undefined) {
    throw new Error(
      'PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/postgres): run .ci/postgres-install.sh',
    );
  }
  return join(root, versions[0], 'bin');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() =>
        typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * Instances still running in this process. They are stopped and removed on
 * exit, and on SIGINT/SIGTERM (the test runner's timeout) before the signal
 * is re-raised, so an aborted run leaves no server behind.
 */
const live = new Set<() => void>();
const cleanupAll = () => {
  for (const cleanup of live) cleanup();
  live.clear();
};
process.once('exit', cleanupAll);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanupAll();
    process.kill(process.pid, signal);
  });
}

export async function startPostgres(opts: PostgresOptions = {}): Promise<TestPostgres> {
  const bin = findPostgresBin();
  const asRoot = process.getuid?.() === 0;
  const pgUser = asRoot ? lookupUser('postgres') : undefined;
  const root = mkdtempSync(join(tmpdir(), 'sidekey-pg-'));
  const dataDir = join(root, 'data');
  const certsDir = join(root, 'certs');
  const serverDir = join(root, 'server');
  const sockDir = join(root, 'sock');
  mkdirSync(serverDir, { mode: 0o700 });
  mkdirSync(sockDir, { mode: 0o700 });
  const owned = (path: string) => {
    if (pgUser !== undefined) chownSync(path, pgUser.uid, pgUser.gid);
  };
  const run = (cmd: string, args: string[]) => {
    const file = join(bin, cmd);
    const [exe, argv] =
      pgUser !== undefined ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
    const r = spawnSync(exe, argv, { encoding: 'utf8', cwd: root });
    if (r.status !== 0) {
      throw new Error(`${cmd} ${args[0] ?? ''} failed (${r.status}): ${r.stderr || r.stdout}`);
    }
  };

  let cleanedUp = false;
  const removeAll = () => {
    if (cleanedUp) return;
    cleanedUp = true;
    if (existsSync(join(dataDir, 'postmaster.pid'))) {
      try {
        run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already down
      }
    }
    rmSync(root, { recursive: true, force: true });
  };
  live.add(removeAll);

  try {
    const certs = generateDevCerts(certsDir, { sidecarRole: SIDECAR_ROLE, operatorRole: OPERATOR_ROLE });
    const server =
      opts.serverAltNames === undefined
        ? undefined
        : issueCertificate(certs.ca, {
            commonName: opts.serverAltNames[0] ?? 'server',
            usage: 'server',
            altNames: opts.serverAltNames,
          });
    const serverCert = join(serverDir, 'server.crt');
    const serverKey = join(serverDir, 'server.key');
    const clientCa = join(serverDir, 'client-ca.crt');
    if (server === undefined) {
      copyFileSync(certs.files.serverCert, serverCert);
      copyFileSync(certs.files.serverKey, serverKey);
    } else {
      writeFileSync(serverCert, server.cert);
      writeFileSync(serverKey, server.key);
    }
    copyFileSync(certs.files.caCert, clientCa);
    chmodSync(serverKey, 0o600);
    for (const p of [root, serverDir, sockDir, serverCert, serverKey, clientCa]) owned(p);

    run('initdb', [
      '-D',
      dataDir,
      '-U',
      'postgres',
      '-A',
      'reject',
      '-E',
      'UTF8',
      '--locale=C.UTF-8',
      '--no-sync',
    ]);
    writeFileSync(
      join(dataDir, 'pg_hba.conf'),
      [
        '# harness admin: unix socket inside a private 0700 directory',
        'local all postgres trust',
        '# everyone else: TLS with a client certificate whose CN is the role',
        'hostssl all all 127.0.0.1/32 cert',
        'hostssl all all ::1/128 cert',
        '',
      ].join('\n'),
    );
    owned(join(dataDir, 'pg_hba.conf'));

    let port = 0;
    const startServer = () =>
      run('pg_ctl', ['-D', dataDir, '-l', join(root, 'postgres.log'), '-w', '-t', '30', 'start']);
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      writeFileSync(
        join(dataDir, 'postgresql.auto.conf'),
        [
          `port = ${port}`,
          "listen_addresses = '127.0.0.1'",
          `unix_socket_directories = '${sockDir}'`,
          'ssl = on',
          `ssl_cert_file = '${serverCert}'`,
          `ssl_key_file = '${serverKey}'`,
          `ssl_ca_file = '${clientCa}'`,
          'max_connections = 60',
          "log_min_messages = 'warning'",
          "log_connections = 'off'",
          '',
        ].join('\n'),
      );
      owned(join(dataDir, 'postgresql.auto.conf'));
      try {
        startServer();
        break;
      } catch (err) {
        if (attempt >= 2) throw err; // the port may have been taken between probe and bind
      }
    }

    const adminQuery = async <R>(sql: string, params?: unknown[], database = DATABASE): Promise<R[]> => {
      const c = new pg.Client({ host: sockDir, port, user: 'postgres', database });
      await c.connect();
      try {
        return (await c.query(sql, params)).rows as R[];
      } finally {
        await c.end();
      }
    };
    // One statement each: create database cannot run inside the implicit transaction of a script.
    await adminQuery(`create role ${SIDECAR_ROLE} login`, undefined, 'postgres');
    await adminQuery(`create role ${OPERATOR_ROLE} login`, undefined, 'postgres');
    await adminQuery(`create database ${DATABASE} owner ${OPERATOR_ROLE}`, undefined, 'postgres');

    const clientCert = (role = SIDECAR_ROLE) => {
      const files = certs.files.clients[role];
      if (files === undefined) throw new Error(`no client certificate for role ${role}`);
      return { certFile: files.cert, keyFile: files.key };
    };
    const url = (role = SIDECAR_ROLE) => `postgres://${role}@127.0.0.1:${port}/${DATABASE}`;
    return {
      url,
      host: '127.0.0.1',
      port,
      dataDir,
      certsDir,
      caFile: certs.files.caCert,
      ca: certs.ca,
      clientCert,
      connection: (role = SIDECAR_ROLE) => ({
        url: url(role),
        caFile: certs.files.caCert,
        ...clientCert(role),
      }),
      async setClientCaBundle(pem: string) {
        writeFileSync(clientCa, pem);
        owned(clientCa);
        await adminQuery('select pg_reload_conf()', undefined, 'postgres');
        // Reload is asynchronous in the postmaster; give it a moment.
        await new Promise((r) => setTimeout(r, 300));
      },
      async start() {
        startServer();
      },
      async stop() {
        run('pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', 'stop']);
      },
      async crash() {
        run('pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop']);
      },
      async restart() {
        run('pg_ctl', [
          '-D',
          dataDir,
          '-l',
          join(root, 'postgres.log'),
          '-m',
          'fast',
          '-w',
          '-t',
          '30',
          'restart',
        ]);
      },
      adminQuery,
      async adminClient(database = DATABASE) {
        const c = new pg.Client({ host: sockDir, port, user: 'postgres', database });
        await c.connect();
        return c;
      },
      psqlFile(file: string, database = 'postgres') {
        const r = spawnSync(
          join(bin, 'psql'),
          [
            '-X',
            '-q',
            '-v',
            'ON_ERROR_STOP=1',
            '-h',
            sockDir,
            '-p',
            String(port),
            '-U',
            'postgres',
            '-d',
            database,
            '-f',
            file,
          ],
          { encoding: 'utf8' },
        );
        if (r.status !== 0) throw new Error(`psql -f ${file} failed (${r.status}): ${r.stderr}`);
        return r.stdout + r.stderr;
      },
      async destroy() {
        removeAll();
        live.delete(removeAll);
      },
    };
  } catch (err) {
    removeAll();
    live.delete(removeAll);
    throw err;
  }
}

function lookupUser(name: string): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { uid, gid };
}
