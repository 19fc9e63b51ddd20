/**
 * The examples of the documentation run, as written, against a real daemon
 * (tenant `demo`, its ORK in `.sidekey/demo.ork` of the working directory,
 * as after `npm start`):
 * - every shell block with a curl command in README.md and docs/api.md
 *   (docs/api.md's after its "Conventions" block), each call's answer
 *   compared with the comment that follows it (markdown.ts);
 * - the Node gRPC examples of README.md and docs/grpc.md;
 * - the Python example of docs/grpc.md, stubs generated as it says, with
 *   Debian's python3-grpcio and python3-grpc-tools (.ci/run installs them).
 * The grpcurl blocks are not run: grpcurl is not packaged for Debian 12.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestDaemon, type TestDaemon } from '../support/daemon.js';
import { repoRoot } from './code-surface.js';
import { type CodeBlock, codeBlocks, curlCommands, keepsPromise } from './markdown.js';

const DOCUMENTED_URL = 'http://127.0.0.1:7600';
const blocksOf = (file: string) => codeBlocks(readFileSync(join(repoRoot, file), 'utf8'));
const hasCurl = (b: CodeBlock) => b.lang === 'sh' && curlCommands(b.code).length > 0;

interface Ran {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A child process, asynchronously: the daemon answers from this process, so
 * a synchronous spawn would leave the example waiting for a blocked daemon.
 */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env: NodeJS.ProcessEnv; input?: string; timeoutMs?: number },
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env,
      timeout: options.timeoutMs ?? 60_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

let d: TestDaemon;
let work: string;
let bin: string;

/**
 * The field policies the documentation sets with `sidekey policy set` before
 * its token-kind examples (README "Token kinds", docs/api.md "Field policies
 * and token kinds"); set through the store port, as the CLI cannot open the
 * embedded store while the daemon holds it.
 */
const DOCUMENTED_POLICIES = [
  { field: 'customer_email', kind: 'deterministic', alphabet: null, keepPrefix: 0, keepSuffix: 0 },
  { field: 'card', kind: 'fpe', alphabet: 'digits', keepPrefix: 6, keepSuffix: 4 },
  {
    field: 'card_number',
    kind: 'random',
    alphabet: null,
    keepPrefix: 0,
    keepSuffix: 0,
    mask: 'last4',
    ttlSeconds: 7_776_000,
  },
] as const;

before(async () => {
  d = await startTestDaemon();
  for (const p of DOCUMENTED_POLICIES)
    assert.ok(await d.daemon.store.putPolicy({ tenant: 'demo', mask: 'redact', ttlSeconds: null, ...p }));
  work = mkdtempSync(join(tmpdir(), 'sidekey-examples-'));
  symlinkSync(d.dataDir, join(work, '.sidekey'));
  bin = join(work, 'bin');
  mkdirSync(bin);
  const recorder = join(bin, 'curl');
  const script = join(repoRoot, 'test/docs/curl-recorder.mjs');
  writeFileSync(recorder, `#!/bin/sh\nexec "${process.execPath}" "${script}" "$@"\n`);
  chmodSync(recorder, 0o755);
});
after(async () => {
  await d?.destroy();
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

function realCurl(): string {
  const found = spawnSync('sh', ['-c', 'command -v curl'], { encoding: 'utf8' }).stdout.trim();
  assert.ok(found !== '', 'curl is installed (.ci/run installs it)');
  return found;
}

/** Runs a shell block with bash in the working directory; returns the recorded calls. */
async function runShell(code: string, name: string): Promise<{ status: number; body: string }[]> {
  const state = mkdtempSync(join(work, 'state-'));
  const shell = await run(
    'bash',
    ['--noprofile', '--norc', '-o', 'pipefail', '-c', code.replaceAll(DOCUMENTED_URL, d.url)],
    {
      cwd: work,
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: work,
        LC_ALL: 'C.UTF-8',
        EXAMPLES_STATE: state,
        EXAMPLES_REAL_CURL: realCurl(),
      },
    },
  );
  assert.equal(shell.status, 0, `${name} exited ${shell.status}: ${shell.stderr}`);
  let lines: string[] = [];
  try {
    lines = readFileSync(join(state, 'calls.jsonl'), 'utf8').trim().split('\n');
  } catch {
    // no call recorded: compared below
  }
  return lines.filter((l) => l !== '').map((l) => JSON.parse(l) as { status: number; body: string });
}

async function checkCurlBlock(block: CodeBlock, prelude: string, name: string): Promise<void> {
  const commands = curlCommands(block.code);
  const calls = await runShell(`${prelude}${block.code}`, name);
  assert.equal(calls.length, commands.length, `${name}: every curl of the block ran`);
  commands.forEach((c, i) => {
    const call = calls[i]!;
    const expected = c.expected ?? '200';
    assert.ok(
      keepsPromise(expected, call.status, call.body),
      `${name}: ${c.command}\n  promised ${expected}\n  answered ${call.status} ${call.body}`,
    );
  });
}

describe('curl examples', () => {
  it('README.md: every curl block', async () => {
    const blocks = blocksOf('README.md').filter(hasCurl);
    assert.ok(blocks.length >= 2);
    for (const [i, b] of blocks.entries()) {
      await checkCurlBlock(b, '', `README.md curl block ${i + 1} (${b.heading})`);
    }
  });

  it('docs/api.md: every curl block, after the conventions block', async () => {
    const all = blocksOf('docs/api.md');
    const conventions = all.find((b) => b.heading === 'Conventions of the examples' && b.lang === 'sh');
    assert.ok(conventions !== undefined, 'docs/api.md has its conventions block');
    const blocks = all.filter(hasCurl);
    assert.ok(blocks.length >= 5);
    for (const [i, b] of blocks.entries()) {
      await checkCurlBlock(b, conventions.code, `docs/api.md curl block ${i + 1} (${b.heading})`);
    }
  });
});

describe('gRPC client examples', () => {
  const grpcEnv = () => ({
    ...process.env,
    SIDEKEY_GRPC_SOCKET: d.daemon.grpcSocket,
    SIDEKEY_ORK: d.ork,
    SIDEKEY_ORK_FILE: join(d.dataDir, 'demo.ork'),
  });

  /** An ES module from stdin, in the repository (its proto/ and node_modules, as a reader's checkout). */
  async function runNode(code: string): Promise<string> {
    const node = await run(process.execPath, ['--input-type=module'], {
      cwd: repoRoot,
      input: code,
      timeoutMs: 30_000,
      env: grpcEnv(),
    });
    assert.equal(node.status, 0, `node exited ${node.status}: ${node.stderr}`);
    return node.stdout;
  }

  it('README.md: the Node example', async () => {
    const [block] = blocksOf('README.md').filter((b) => b.lang === 'js');
    assert.ok(block !== undefined);
    assert.match(await runNode(block.code), /tok_[A-Za-z0-9_-]{22}/);
  });

  it('docs/grpc.md: the Node example', async () => {
    const [block] = blocksOf('docs/grpc.md').filter((b) => b.lang === 'js');
    assert.ok(block !== undefined);
    assert.equal(await runNode(block.code), 'alice@example.com\n');
  });

  it('docs/grpc.md: the Python example (stubs generated as the guide says)', async () => {
    const python = ['/usr/bin/python3', 'python3'].find(
      (p) => spawnSync(p, ['-c', 'import grpc, grpc_tools.protoc'], { stdio: 'ignore' }).status === 0,
    );
    assert.ok(
      python !== undefined,
      'python3 with grpcio and grpc_tools (apt: python3-grpcio python3-grpc-tools; .ci/run installs them)',
    );
    const blocks = blocksOf('docs/grpc.md');
    const generate = blocks.find((b) => b.lang === 'sh' && b.code.includes('grpc_tools.protoc'));
    const example = blocks.find((b) => b.lang === 'python');
    assert.ok(generate !== undefined && example !== undefined);
    const dir = mkdtempSync(join(work, 'python-'));
    symlinkSync(join(repoRoot, 'proto'), join(dir, 'proto'));
    // The guide's `python3` is the one that has grpcio (a pyenv shim may shadow Debian's).
    const pyBin = join(dir, 'bin');
    mkdirSync(pyBin);
    const executable = spawnSync(python, ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' });
    symlinkSync(executable.stdout.trim(), join(pyBin, 'python3'));
    const env = { ...grpcEnv(), PATH: `${pyBin}:${process.env.PATH}` };
    const gen = await run('bash', ['--noprofile', '--norc', '-e', '-c', generate.code], { cwd: dir, env });
    assert.equal(gen.status, 0, gen.stderr);
    const py = await run('python3', ['-'], { cwd: dir, env, input: example.code, timeoutMs: 30_000 });
    assert.equal(py.status, 0, py.stderr);
    assert.equal(py.stdout, 'alice@example.com\n');
  });
});
