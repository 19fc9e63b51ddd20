/**
 * The socket file: mode 0660 whatever the umask, a stale file of a crashed
 * process replaced, a live daemon's socket never taken over, anything that is
 * not a socket never deleted, and the file removed on shutdown (SIGTERM to
 * the real `sidekey serve`).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  existsSync,
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startDaemon } from '../../src/app.js';
import { loadConfig } from '../../src/config/index.js';
import { type GrpcServerHandle, listenGrpc, SocketInUseError } from '../../src/transport/grpc/index.js';
import { freshDataDir, startTestDaemon } from '../support/daemon.js';
import { callGrpc, healthClient, sidekeyClient } from './support.js';

const dir = mkdtempSync(join(tmpdir(), 'sidekey-sock-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const service = {
  tokenize: async (input: unknown) => ({ tokens: (input as { values: string[] }).values.map(() => 'tok_x') }),
  detokenize: async () => ({ results: [] }),
  encrypt: async () => ({ ciphertexts: [] }),
  decrypt: async () => ({ results: [] }),
  deleteTokens: async () => ({ deleted: 0 }),
  forgetSubjects: async () => ({ forgotten: 0 }),
  ingestKeys: async () => ({ keys: [] }),
};
const quiet = { info: () => {}, warn: () => {}, error: () => {} } as never;
const listen = (socketPath: string): Promise<GrpcServerHandle> =>
  listenGrpc({
    service,
    socketPath,
    readiness: async () => ({ ready: true, checks: {} }),
    clientToken: undefined,
    maxMessageBytes: 1024 * 1024,
    log: quiet,
  });

async function serves(socketPath: string): Promise<boolean> {
  const c = sidekeyClient(socketPath, { ownConnection: true });
  const r = await callGrpc(c, 'Tokenize', { values: ['a'] }, { deadlineMs: 2000 });
  c.close();
  return r.ok;
}

function listenNet(path: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer((c) => c.destroy());
    s.once('error', reject);
    s.listen(path, () => resolve(s));
  });
}

describe('listener socket file', () => {
  it('is created 0660 even with an umask of 0, through no wider window, and removed on close', async () => {
    const path = join(dir, 'mode.sock');
    const previous = process.umask(0); // a bind under umask 0 would make it 0777
    let server: GrpcServerHandle;
    try {
      server = await listen(path);
    } finally {
      process.umask(previous);
    }
    const st = statSync(path);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o660);
    assert.deepEqual(
      readdirSync(dir).filter((n) => n.startsWith('.sk-')),
      [],
      'the private bind directory is gone',
    );
    assert.ok(await serves(path));
    await server.close();
    assert.equal(existsSync(path), false);
  });

  it('replaces a stale socket left by a crashed process', async () => {
    const path = join(dir, 'stale.sock');
    // A socket file nobody listens on: the name of a closed listener, kept by a hard link.
    const other = join(dir, 'crashed.sock');
    const crashed = await listenNet(other);
    linkSync(other, path);
    await new Promise<void>((r) => crashed.close(() => r()));
    assert.ok(statSync(path).isSocket());
    const server = await listen(path);
    assert.ok(await serves(path));
    assert.equal(statSync(path).mode & 0o777, 0o660);
    await server.close();
    assert.equal(existsSync(path), false);
  });

  it('refuses to take over a socket someone is listening on, and leaves it alone', async () => {
    const path = join(dir, 'live.sock');
    const live = await listenNet(path);
    const before = statSync(path).ino;
    await assert.rejects(listen(path), (err: Error) => {
      assert.ok(err instanceof SocketInUseError);
      assert.match(err.message, /is in use by a running process .*refusing to take it over/);
      return true;
    });
    assert.equal(statSync(path).ino, before, 'the live socket file is untouched');
    await new Promise<void>((r) => live.close(() => r()));
  });

  it('refuses a path that is not a socket and never deletes it', async () => {
    const path = join(dir, 'file.sock');
    writeFileSync(path, 'precious');
    await assert.rejects(listen(path), /exists and is not a unix socket; refusing to replace it/);
    assert.equal(readFileSync(path, 'utf8'), 'precious');
  });
});

describe('daemons', () => {
  it('a second daemon does not steal a live daemon’s socket: it fails to start with a clear error', async () => {
    const path = join(dir, 'shared.sock');
    const a = await startTestDaemon({ SIDEKEY_GRPC_SOCKET: path });
    try {
      const dataDir = await freshDataDir();
      const config = loadConfig(
        {
          SIDEKEY_DATA_DIR: dataDir,
          SIDEKEY_HTTP_PORT: '0',
          SIDEKEY_LOG_LEVEL: 'silent',
          SIDEKEY_GRPC_SOCKET: path,
        },
        process.cwd(),
      );
      await assert.rejects(
        startDaemon(config, { note: () => {} }),
        /shared\.sock is in use by a running process/,
      );
      rmSync(dataDir, { recursive: true, force: true });
      const c = sidekeyClient(path, { ownConnection: true });
      const r = await callGrpc(
        c,
        'Encrypt',
        { tenant: 'demo', field: 'f', plaintexts: ['x'] },
        { ork: a.ork },
      );
      c.close();
      assert.ok(r.ok, 'the first daemon still serves on its socket');
    } finally {
      await a.destroy();
    }
    assert.equal(existsSync(path), false);
  });

  it('`sidekey serve` removes its socket on SIGTERM and exits 0; a second one on the same socket exits non-zero', async () => {
    const socket = join(dir, 'cli.sock');
    const first = serve(await freshDataDir(), socket);
    await waitFor(
      () => existsSync(socket),
      30_000,
      () => first.stderr(),
    );
    // Health follows readiness checks, which a loaded machine can slow: wait
    // for SERVING rather than demand it on the first answer.
    const h = healthClient(socket);
    let health = '';
    const deadline = Date.now() + 30_000;
    while (health !== 'SERVING' && Date.now() < deadline) {
      health = await new Promise<string>((resolve, reject) =>
        h.Check({ service: 'sidekey.v1.Sidekey' }, (err: Error | null, r: { status: string }) =>
          err ? reject(err) : resolve(r.status),
        ),
      );
      if (health !== 'SERVING') await sleep(100);
    }
    h.close();
    assert.equal(health, 'SERVING', first.stderr());

    const second = serve(await freshDataDir(), socket);
    const secondCode = await second.exit;
    assert.notEqual(secondCode, 0);
    assert.match(second.stderr(), /cli\.sock is in use by a running process/);
    assert.ok(existsSync(socket), 'the second process left the first one’s socket alone');

    first.child.kill('SIGTERM');
    assert.equal(await first.exit, 0, first.stderr());
    assert.equal(existsSync(socket), false, 'the socket file is removed on SIGTERM');
  });
});

function serve(dataDir: string, socket: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve'], {
    cwd: process.cwd(),
    env: {
      ...process.env,
      SIDEKEY_DATA_DIR: dataDir,
      SIDEKEY_HTTP_PORT: '0',
      SIDEKEY_LOG_LEVEL: 'warn',
      SIDEKEY_GRPC_SOCKET: socket,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (b: Buffer) => {
    err += b.toString();
  });
  const exit = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      rmSync(dataDir, { recursive: true, force: true });
      resolve(code);
    }),
  );
  after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return { child, exit, stderr: () => err };
}

async function waitFor(cond: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out; stderr: ${describe()}`);
    await sleep(50);
  }
}
