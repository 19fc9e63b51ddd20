/**
 * "When a tokenize call returns, every token it returned is durable":
 * many concurrent tokenize calls, SIGKILL right after the last answer, a
 * restart on the same data directory, and every token detokenizes.
 */
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, it } from 'node:test';
import { freshDataDir } from '../support/daemon.js';
import { post } from '../support/http.js';
import { freePort, spawnSidekey, waitServing } from '../support/process.js';

let dataDir: string | undefined;
after(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

it('every acknowledged token survives kill -9', async () => {
  dataDir = await freshDataDir();
  const port = await freePort();
  const env = { SIDEKEY_DATA_DIR: dataDir, SIDEKEY_HTTP_PORT: String(port) };
  const first = spawnSidekey(['serve'], env);
  await waitServing(first);
  const url = `http://127.0.0.1:${port}`;
  const ork = readFileSync(join(dataDir, 'demo.ork'), 'utf8').trim();

  const expected = new Map<string, string>();
  const clients = 16;
  const rounds = 10;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let r = 0; r < rounds; r++) {
        const values = [`c${c}-r${r}-a`, `c${c}-r${r}-b`, `c${c}-r${r}-ü😀`];
        const res = await post(url, '/v1/tokenize', ork, { tenant: 'demo', field: 'f', values });
        assert.equal(res.status, 200, res.text);
        res.body.tokens.forEach((t: string, i: number) => {
          expected.set(t, values[i]!);
        });
      }
    }),
  );
  first.proc.kill('SIGKILL');
  const killed = await first.exited;
  assert.equal(killed.signal, 'SIGKILL');

  // The stale lock of the killed process is taken over; the store is intact.
  const second = spawnSidekey(['serve'], env);
  try {
    await waitServing(second);
    const tokens = [...expected.keys()];
    assert.equal(tokens.length, clients * rounds * 3);
    for (let i = 0; i < tokens.length; i += 100) {
      const batch = tokens.slice(i, i + 100);
      const res = await post(url, '/v1/detokenize', ork, { tenant: 'demo', tokens: batch });
      assert.equal(res.status, 200);
      res.body.results.forEach((r: { value?: string }, j: number) => {
        assert.equal(r.value, expected.get(batch[j]!), `token ${batch[j]} lost or changed`);
      });
    }
  } finally {
    second.proc.kill('SIGTERM');
    const stopped = await second.exited;
    assert.equal(stopped.code, 0, `graceful shutdown exits 0: ${second.stderr}`);
  }
  // Secrets stay secret: neither process logged a value or the ORK.
  const output = first.stdout + first.stderr + second.stdout + second.stderr;
  assert.ok(output.includes('"name":"audit"'), 'the audit stream was captured');
  assert.ok(!output.includes(ork), 'the ORK reached the output');
  for (const value of expected.values())
    assert.ok(!output.includes(`"${value}"`), `a value reached the output: ${value}`);
});
