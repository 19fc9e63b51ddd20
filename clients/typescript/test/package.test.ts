/**
 * The client works as a package: `npm pack` builds it (prepack), the tarball
 * holds the compiled entry points, their types and the proto, and the
 * built code (not the sources) calls a real daemon over both transports.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after, before, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestDaemon, type TestDaemon } from '../../../test/support/daemon.js';

const pkgDir = fileURLToPath(new URL('..', import.meta.url));
let d: TestDaemon;
before(async () => {
  d = await startTestDaemon();
});
after(async () => {
  await d?.destroy();
});

it('packs the built entry points, their types and the proto', () => {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts=false'], {
    cwd: pkgDir,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [packed] = JSON.parse(out) as [{ files: { path: string }[] }];
  const files = packed.files.map((f) => f.path);
  for (const f of [
    'dist/index.js',
    'dist/index.d.ts',
    'dist/grpc.js',
    'dist/grpc.d.ts',
    'proto/sidekey/v1/sidekey.proto',
  ]) {
    assert.ok(files.includes(f), `${f} is in the package`);
  }
  assert.ok(!files.some((f) => f.startsWith('src/') || f.startsWith('test/')), 'no sources or tests');
  assert.equal(
    readFileSync(new URL('../proto/sidekey/v1/sidekey.proto', import.meta.url), 'utf8'),
    readFileSync(new URL('../../../proto/sidekey/v1/sidekey.proto', import.meta.url), 'utf8'),
    'the packed proto is the contract',
  );
});

it('the built package calls a daemon over HTTP and gRPC', async () => {
  const http = (await import(
    new URL('../dist/index.js', import.meta.url).href
  )) as typeof import('../src/index.js');
  const grpc = (await import(
    new URL('../dist/grpc.js', import.meta.url).href
  )) as typeof import('../src/grpc.js');
  const overHttp = http.createHttpClient({ url: d.url, ork: d.ork });
  const { tokens } = await overHttp.tokenize({ tenant: 'demo', field: 'email', values: ['pkg@example.com'] });
  const overGrpc = grpc.createGrpcClient({ socket: d.daemon.grpcSocket, ork: d.ork });
  try {
    const { results } = await overGrpc.detokenize({ tenant: 'demo', tokens });
    assert.deepEqual(results, [{ value: 'pkg@example.com' }]);
  } finally {
    overGrpc.close();
  }
});
