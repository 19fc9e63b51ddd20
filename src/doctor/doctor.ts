/**
 * `sidekey doctor` (API.md "Fleet and operator commands"): checks what
 * serving needs with the same configuration `serve` would use — the
 * configuration itself, the KMS (a wrap/unwrap round trip under a test
 * context: reachable and permitted), the store (postgres-checks.ts), the
 * gRPC socket directory and the client token file — and says for each
 * failure what to do. It changes nothing (the probe socket and the test key
 * leave no trace), except that the local development KEK file is created
 * when missing, as any command does.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, mkdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { type Config, loadConfig } from '../config/index.js';
import { systemRandom } from '../crypto/index.js';
import { createKekRing, KmsError } from '../kms/index.js';
import { type CheckResult, fail, guarded, ok, skip, warn } from './check.js';
import { postgresChecks } from './postgres-checks.js';

const MAX_SOCKET_PATH = 107;

export async function runDoctor(env: NodeJS.ProcessEnv, cwd: string): Promise<CheckResult[]> {
  let config: Config;
  try {
    config = loadConfig(env, cwd);
  } catch (err) {
    return [
      fail(
        'config',
        (err as Error).message,
        'fix the setting it names (README.md "Configuration"); `sidekey config print` shows the effective values',
      ),
    ];
  }
  const results: CheckResult[] = [
    ok(
      'config',
      `valid: store ${config.store.kind}, KMS ${config.kms.provider}, data directory ${config.dataDir}`,
    ),
  ];
  results.push(...(await kmsChecks(config)));
  if (config.store.kind === 'postgres') {
    results.push(
      ...(await guarded('postgres', 'check the PostgreSQL settings', () =>
        postgresChecks(config.store as Extract<Config['store'], { kind: 'postgres' }>, new Date()),
      )),
    );
  } else {
    results.push(dataDirCheck(config.dataDir));
  }
  results.push(await socketCheck(config.grpcSocket));
  results.push(clientTokenCheck(config.clientTokenFile));
  return results;
}

const KMS_FIX: Record<KmsError['kind'] | 'other', string> = {
  denied:
    'give this identity permission to encrypt and decrypt with the key (AWS: kms:Encrypt and kms:Decrypt on SIDEKEY_KMS_KEY_ID in the key policy or IAM; Vault: update on transit/encrypt/<key> and transit/decrypt/<key>), and check that the key is enabled',
  unavailable:
    'check the KMS endpoint (AWS_REGION / AWS_ENDPOINT_URL_KMS, VAULT_ADDR), the network path and credentials',
  integrity:
    'the KMS returned something that does not unwrap: check SIDEKEY_KMS_KEY_ID names a symmetric encryption key',
  other: 'check the KMS settings (SIDEKEY_KMS, SIDEKEY_KMS_KEY_ID and the provider settings)',
};

async function kmsChecks(config: Config): Promise<CheckResult[]> {
  const warnings: string[] = [];
  let ring: Awaited<ReturnType<typeof createKekRing>>;
  try {
    ring = await createKekRing(config, { random: systemRandom, warn: (m) => warnings.push(m) });
  } catch (err) {
    return [fail('kms.round-trip', (err as Error).message, KMS_FIX.other)];
  }
  const results: CheckResult[] = [];
  try {
    const kek = ring.primary;
    const context = { purpose: 'doctor', host: hostname() };
    const probe = randomBytes(32);
    try {
      const wrapped = await kek.wrap(probe, context);
      const back = await kek.unwrap(wrapped, context);
      results.push(
        back.equals(probe)
          ? ok('kms.round-trip', `${kek.kekRef}: wrap and unwrap with a test context work`)
          : fail('kms.round-trip', `${kek.kekRef}: unwrap returned other bytes`, KMS_FIX.integrity),
      );
    } catch (err) {
      const kind = err instanceof KmsError ? err.kind : 'other';
      results.push(fail('kms.round-trip', `${kek.kekRef}: ${(err as Error).message}`, KMS_FIX[kind]));
    }
    if (kek.provider === 'local')
      results.push(
        warn(
          'kms.provider',
          'the local development KEK (a key file in the data directory) is in use',
          'use SIDEKEY_KMS=aws or vault for real data',
        ),
      );
    for (const previous of ring.all().filter((k) => k !== kek)) {
      const h = await previous
        .health()
        .catch((err: unknown) => ({ ok: false as const, reason: String(err) }));
      results.push(
        h.ok
          ? ok(`kms.previous`, `${previous.kekRef} (SIDEKEY_KMS_PREVIOUS) answers`)
          : fail('kms.previous', `${previous.kekRef}: ${h.reason}`, KMS_FIX.denied),
      );
    }
  } finally {
    for (const k of ring.all()) await k.close().catch(() => {});
  }
  return results;
}

function dataDirCheck(dir: string): CheckResult {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    return fail(
      'store.data-dir',
      `data directory ${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'make SIDEKEY_DATA_DIR a directory this user can write (the embedded store lives there)',
    );
  }
  const mode = statSync(dir).mode & 0o777;
  if ((mode & 0o077) !== 0)
    return warn('store.data-dir', `data directory ${dir} is mode ${mode.toString(8)}`, `chmod 700 ${dir}`);
  return ok('store.data-dir', `data directory ${dir} is writable (embedded store)`);
}

/** Binds a probe socket where `serve` would put its socket (a private subdirectory, as socket.ts does). */
async function socketCheck(socketPath: string): Promise<CheckResult> {
  const name = 'grpc.socket-dir';
  const dir = dirname(socketPath);
  const fix = `make ${dir} a directory this user can write, not writable by others (in Kubernetes: the emptyDir shared with the app, mounted at /run/sidekey), or set SIDEKEY_GRPC_SOCKET`;
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH)
    return fail(
      name,
      `${socketPath} is longer than ${MAX_SOCKET_PATH} bytes (a unix socket path limit)`,
      fix,
    );
  let probeDir: string | undefined;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    probeDir = await mkdtemp(join(dir, '.sk-doctor-'));
    const probe = join(probeDir, 's');
    await new Promise<void>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(probe, () => server.close(() => resolve()));
    });
    await chmod(probeDir, 0o750);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return fail(name, `cannot create the gRPC socket in ${dir} (${code})`, fix);
  } finally {
    if (probeDir !== undefined) await rm(probeDir, { recursive: true, force: true }).catch(() => {});
  }
  const mode = (await stat(dir)).mode;
  if ((mode & 0o002) !== 0 && (mode & 0o1000) === 0)
    return fail(
      name,
      `${dir} is writable by every user (mode ${(mode & 0o7777).toString(8)}): anyone could replace the socket`,
      `chmod o-w ${dir} (the socket itself is 0660; share it through the directory's group)`,
    );
  return ok(name, `the gRPC socket can be created at ${socketPath} (mode 0660)`);
}

function clientTokenCheck(file: string | undefined): CheckResult {
  const name = 'client-token';
  if (file === undefined)
    return skip(name, 'SIDEKEY_CLIENT_TOKEN_FILE is not set: no bearer token is required');
  try {
    if (readFileSync(file, 'utf8').trim() === '')
      return fail(name, `${file} is empty`, 'write the token to SIDEKEY_CLIENT_TOKEN_FILE');
  } catch (err) {
    return fail(
      name,
      `cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      'mount the token file readable by this user',
    );
  }
  return ok(name, `${file} holds a token`);
}
