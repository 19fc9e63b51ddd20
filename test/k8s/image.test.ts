/**
 * The container image without a container engine (none runs here): the
 * Dockerfile's stages rehearsed in a clean directory, then the result run as
 * an unprivileged user that can write nowhere but its data directory, as in
 * a pod with a read-only root filesystem.
 *
 *  - context: the files a `docker build .` would send (.dockerignore applied);
 *  - build:   `npm run build` on that context (its dev dependencies are the
 *             checkout's node_modules, linked, instead of a second `npm ci`:
 *             same lockfile, and it keeps the test fast);
 *  - deps:    `npm ci --omit=dev --ignore-scripts`, for real, from the npm cache;
 *  - runtime: package*.json, bin/, proto/, node_modules/ and dist/ only, owned
 *             by root, and `node /app/bin/sidekey.js` run as nobody.
 * The test also checks that the Dockerfile still says what is rehearsed here.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { get as httpGet } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { makeTestPki } from './support/tls.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const DOCKERFILE = readFileSync(join(REPO, 'Dockerfile'), 'utf8');
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

/** .dockerignore semantics for the patterns it uses: last match wins, `!` re-includes, `**` any depth. */
function dockerignore(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const include = l.startsWith('!');
      const pattern = include ? l.slice(1) : l;
      const source = pattern
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replaceAll('*', '[^/]*')
            .replaceAll('?', '[^/]'),
        )
        .join('.*');
      return { include, re: new RegExp(`^${source.replace(/^\.\*\//, '(.*/)?')}$`) };
    });
  return (path) => {
    let ignored = false;
    for (const rule of rules) if (rule.re.test(path)) ignored = !rule.include;
    return ignored;
  };
}

function run(cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(cmd, args, {
    cwd,
    env,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
}

/** argv that runs `command` as nobody when we are root (no capabilities, no groups), else as-is. */
function asUnprivileged(command: string[]): string[] {
  if (!isRoot) return command;
  return [
    'setpriv',
    `--reuid=${NOBODY}`,
    `--regid=${NOBODY}`,
    '--clear-groups',
    '--inh-caps=-all',
    '--',
    ...command,
  ];
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Every file under dir with its mtime and size: to show the process wrote nothing there. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const s = statSync(p, { throwIfNoEntry: false });
      if (s === undefined) continue;
      out.push(`${p} ${s.size} ${s.mtimeMs}`);
      if (s.isDirectory() && name !== 'node_modules') walk(p);
    }
  };
  walk(dir);
  return out.join('\n');
}

let root: string;
let app: string;
let env: NodeJS.ProcessEnv;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'sidekey-image-'));
  chmodSync(root, 0o755);

  // The build context.
  const ignored = dockerignore(readFileSync(join(REPO, '.dockerignore'), 'utf8'));
  const files = run('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], REPO)
    .split('\0')
    .filter((f) => f !== '' && !ignored(f) && existsSync(join(REPO, f)));
  const context = join(root, 'context');
  for (const f of files) {
    mkdirSync(dirname(join(context, f)), { recursive: true });
    cpSync(join(REPO, f), join(context, f));
  }

  // Stage build: WORKDIR /src, then npm run build.
  const build = join(root, 'build');
  mkdirSync(build);
  for (const f of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'tsconfig.build.json',
    'src',
    'k8s-sidecar',
  ]) {
    cpSync(join(context, f), join(build, f), { recursive: true });
  }
  symlinkSync(join(REPO, 'node_modules'), join(build, 'node_modules'), 'dir');
  run('npm', ['run', 'build'], build);

  // Stage deps: a real production install from the lockfile, no scripts.
  const deps = join(root, 'deps');
  mkdirSync(deps);
  for (const f of ['package.json', 'package-lock.json']) cpSync(join(context, f), join(deps, f));
  run('npm', ['ci', '--omit=dev', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'], deps, {
    ...process.env,
    NODE_ENV: 'production',
  });

  // Stage runtime: /app, owned by root, read-only to the user that runs it.
  app = join(root, 'app');
  mkdirSync(app);
  for (const f of ['package.json', 'package-lock.json', 'bin', 'proto']) {
    cpSync(join(context, f), join(app, f), { recursive: true });
  }
  renameSync(join(deps, 'node_modules'), join(app, 'node_modules'));
  cpSync(join(build, 'dist'), join(app, 'dist'), { recursive: true });
  run('chmod', ['-R', 'u=rwX,go=rX', app], root);

  // The volumes: the only places the process may write.
  const data = join(root, 'var-lib-sidekey');
  const runDir = join(root, 'run-sidekey');
  for (const d of [data, runDir]) {
    mkdirSync(d, { mode: 0o750 });
    if (isRoot) chownSync(d, NOBODY, NOBODY);
  }
  env = {
    PATH: process.env.PATH,
    NODE_ENV: 'production',
    HOME: '/nonexistent',
    SIDEKEY_DATA_DIR: data,
    SIDEKEY_GRPC_SOCKET: join(runDir, 'sidekey.sock'),
  };
});

after(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});

function sidekey(args: string[], extraEnv: NodeJS.ProcessEnv = {}): ChildProcess {
  const [cmd, ...rest] = asUnprivileged([process.execPath, join(app, 'bin', 'sidekey.js'), ...args]);
  return spawn(cmd!, rest, { cwd: app, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function finished(child: ChildProcess): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, seconds: number): Promise<T> {
  const end = Date.now() + seconds * 1000;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

describe('the Dockerfile', () => {
  it('says what this test rehearses', () => {
    const stages = [...DOCKERFILE.matchAll(/^FROM \$\{NODE_IMAGE\} AS (\w+)$/gm)].map((m) => m[1]);
    assert.deepEqual(stages, ['build', 'deps', 'runtime']);
    // The base image is pinned by digest: a moving tag would change what is built without a review.
    assert.match(DOCKERFILE, /^ARG NODE_IMAGE=node:24-slim@sha256:[0-9a-f]{64}$/m);
    assert.match(DOCKERFILE, /^RUN npm run build$/m);
    assert.match(DOCKERFILE, /^RUN npm ci --omit=dev --ignore-scripts/m);
    const runtime = DOCKERFILE.slice(DOCKERFILE.indexOf('AS runtime'));
    const copies = [...runtime.matchAll(/^COPY (.+)$/gm)].map((m) => m[1]);
    assert.deepEqual(copies, [
      'package.json package-lock.json ./',
      'bin ./bin',
      'proto ./proto',
      '--from=deps /app/node_modules ./node_modules',
      '--from=build /src/dist ./dist',
    ]);
    assert.match(runtime, /^USER 10001:10001$/m);
    // The young generation is bounded, the old generation grows by 25 % per full GC and V8 has one worker thread in the image (ADR-19); the benchmark reads these flags from here.
    assert.match(
      runtime,
      /^ENTRYPOINT \["node", "--max-semi-space-size=2", "--heap-growing-percent=25", "--v8-pool-size=1", "\/app\/bin\/sidekey.js"\]$/m,
    );
    assert.match(runtime, /^CMD \["serve"\]$/m);
    assert.match(runtime, /^VOLUME \["\/var\/lib\/sidekey", "\/run\/sidekey"\]$/m);
  });
});

describe('the image, rehearsed', () => {
  it('holds production dependencies and compiled code only', () => {
    assert.deepEqual(readdirSync(app).sort(), [
      'bin',
      'dist',
      'node_modules',
      'package-lock.json',
      'package.json',
      'proto',
    ]);
    // Packages the lockfile marks dev-only (a devDependency may also be a runtime
    // dependency of something else, e.g. @types/node of protobufjs: that one stays).
    const lock = JSON.parse(readFileSync(join(app, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dev?: boolean }>;
    };
    const devOnly = Object.entries(lock.packages).filter(([path, p]) => path !== '' && p.dev === true);
    assert.ok(devOnly.length > 0);
    for (const [path] of devOnly)
      assert.ok(!existsSync(join(app, path)), `dev-only ${path} is not installed`);
    assert.ok(
      existsSync(join(app, 'dist', 'src', 'cli', 'main.js')),
      'dist/src/cli/main.js (the entrypoint runs it)',
    );
    assert.ok(existsSync(join(app, 'dist', 'k8s-sidecar', 'index.js')), 'dist/k8s-sidecar/index.js');
    const compiledTests = run('find', [join(app, 'dist'), '-name', '*.test.js'], root).trim();
    assert.equal(compiledTests, '', 'no compiled tests');
  });

  it('`sidekey --help` runs as an unprivileged user', async () => {
    // What the process runs as is checked, not assumed: as root the tests drop to
    // nobody (setpriv); as another user they run as that user, which must then be
    // unprivileged too. Either way: not uid 0, no effective capabilities, no groups of root.
    const probe = `const s = require('node:fs').readFileSync('/proc/self/status', 'utf8');
      process.stdout.write(JSON.stringify({ uid: process.getuid(), gid: process.getgid(),
        groups: process.getgroups(), capEff: /^CapEff:\\s+(\\w+)$/m.exec(s)[1] }));`;
    const [cmd, ...rest] = asUnprivileged([process.execPath, '-e', probe]);
    const who = await finished(spawn(cmd!, rest, { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] }));
    assert.equal(who.code, 0, who.stderr);
    const id = JSON.parse(who.stdout) as { uid: number; gid: number; groups: number[]; capEff: string };
    assert.notEqual(id.uid, 0, 'runs as root');
    assert.notEqual(id.gid, 0, 'runs with group root');
    assert.ok(!id.groups.includes(0), `in group root: ${id.groups}`);
    assert.match(id.capEff, /^0+$/, `effective capabilities ${id.capEff}`);
    if (isRoot) assert.equal(id.uid, NOBODY);

    const r = await finished(sidekey(['--help']));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /injector/);
  });

  it('`sidekey --version` prints the package version', async () => {
    const r = await finished(sidekey(['--version']));
    assert.equal(r.code, 0, r.stderr);
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { version: string };
    assert.equal(r.stdout.trim(), pkg.version);
  });

  it('`sidekey injector` serves the webhook over HTTPS, writes nothing, stops on SIGTERM', async () => {
    const tlsDir = join(root, 'injector-tls');
    mkdirSync(tlsDir, { mode: 0o755 });
    const pki = makeTestPki(['localhost']);
    writeFileSync(join(tlsDir, 'tls.crt'), pki.cert, { mode: 0o444 });
    writeFileSync(join(tlsDir, 'tls.key'), pki.key, { mode: 0o444 });
    const port = await freePort();
    const before = snapshot(app);
    const child = sidekey(['injector'], {
      SIDEKEY_INJECTOR_PORT: String(port),
      SIDEKEY_INJECTOR_TLS_CERT_FILE: join(tlsDir, 'tls.crt'),
      SIDEKEY_INJECTOR_TLS_KEY_FILE: join(tlsDir, 'tls.key'),
      SIDEKEY_INJECTOR_IMAGE: 'ghcr.io/sidekey/sidekey:0.1.0',
    });
    const done = finished(child);
    const status = await until(
      'the injector to answer /healthz',
      () =>
        new Promise<number | undefined>((resolve, reject) => {
          const req = httpsRequest(
            {
              host: '127.0.0.1',
              port,
              path: '/healthz',
              ca: pki.caCert,
              servername: 'localhost',
              agent: false,
            },
            (res) => {
              res.resume();
              resolve(res.statusCode);
            },
          );
          req.on('error', reject);
          req.end();
        }),
      30,
    );
    assert.equal(status, 200);
    child.kill('SIGTERM');
    const r = await done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /serving https on port/);
    assert.equal(snapshot(app), before, 'nothing written under /app');
  });

  it('`sidekey serve` starts with only its data directory writable, answers /healthz, stops on SIGTERM', async () => {
    const port = await freePort();
    const before = snapshot(app);
    const child = sidekey(['serve'], { SIDEKEY_HTTP_PORT: String(port), SIDEKEY_LOG_LEVEL: 'warn' });
    const done = finished(child);
    let exited = false;
    void done.then(() => {
      exited = true;
    });
    const status = await until(
      'the daemon to answer /healthz',
      () =>
        exited
          ? Promise.reject(new Error('exited'))
          : new Promise<number | undefined>((resolve, reject) => {
              const req = httpGet({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => {
                res.resume();
                resolve(res.statusCode);
              });
              req.on('error', reject);
            }),
      45,
    ).catch(async (err: Error) => {
      child.kill('SIGKILL');
      const r = await done;
      throw new Error(`${err.message}; exit ${r.code}; stderr:\n${r.stderr.slice(-2000)}`);
    });
    assert.equal(status, 200);
    // The signal handlers are installed once startup is complete, which is after
    // the gRPC socket is listening (the HTTP listener comes first).
    await until('the gRPC socket', async () => (existsSync(env.SIDEKEY_GRPC_SOCKET!) ? true : undefined), 30);
    child.kill('SIGTERM');
    const r = await done;
    assert.equal(r.code, 0, `exit ${r.code} (signal ${child.signalCode}); stderr:\n${r.stderr.slice(-2000)}`);
    assert.equal(snapshot(app), before, 'nothing written under /app');
  });
});
