import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { DestinationStream } from 'pino';
import { BatchedStdout, LOG_BATCH_MS } from './logger.js';

class Sink implements DestinationStream {
  readonly writes: string[] = [];
  flushes = 0;
  write(s: string): void {
    this.writes.push(s);
  }
  flush(cb?: (err?: Error) => void): void {
    this.flushes++;
    cb?.();
  }
}

const line = (level: number, msg: string) => `{"level":${level},"msg":"${msg}"}\n`;
const afterBatch = () => new Promise((r) => setTimeout(r, LOG_BATCH_MS * 3));

describe('BatchedStdout (one write per batch of log lines)', () => {
  it('joins the lines of one batch into one write, in order', async () => {
    const sink = new Sink();
    const out = new BatchedStdout(sink);
    out.write(line(30, 'a'));
    out.write(line(30, 'b'));
    out.write(line(30, 'c'));
    assert.equal(sink.writes.length, 0, 'nothing written before the batch ends');
    await afterBatch();
    assert.deepEqual(sink.writes, [line(30, 'a') + line(30, 'b') + line(30, 'c')]);
    out.write(line(30, 'd'));
    await afterBatch();
    assert.deepEqual(sink.writes.slice(1), [line(30, 'd')]);
  });

  it('writes an error or fatal line at once, after the lines waiting before it', () => {
    const sink = new Sink();
    const out = new BatchedStdout(sink);
    out.write(line(30, 'before'));
    out.write(line(50, 'boom'));
    assert.deepEqual(sink.writes, [line(30, 'before') + line(50, 'boom')]);
    out.write(line(60, 'fatal'));
    assert.deepEqual(sink.writes.slice(1), [line(60, 'fatal')]);
  });

  it('writes at once when a batch grows past 16 KiB', () => {
    const sink = new Sink();
    const out = new BatchedStdout(sink);
    const big = line(30, 'x'.repeat(6000));
    out.write(big);
    out.write(big);
    assert.equal(sink.writes.length, 0);
    out.write(big);
    assert.deepEqual(sink.writes, [big + big + big]);
  });

  it('flush() hands over what waits and flushes the destination (graceful stop)', () => {
    const sink = new Sink();
    const out = new BatchedStdout(sink);
    out.write(line(30, 'stopped'));
    let called = false;
    out.flush(() => {
      called = true;
    });
    assert.deepEqual(sink.writes, [line(30, 'stopped')]);
    assert.equal(sink.flushes, 1);
    assert.ok(called);
  });

  for (const [how, end] of [
    ['process.exit right after logging', 'process.exit(0);'],
    ['the event loop running dry right after logging', ''],
  ] as const) {
    it(`loses no line when the process ends by ${how}`, () => {
      const script = [
        `import { createLoggers } from ${JSON.stringify(join(import.meta.dirname, 'logger.ts'))};`,
        "const { log, auditLines } = createLoggers('info');",
        "for (let i = 0; i < 50; i++) log.info({ i }, 'line');",
        "auditLines('{\"operation\":\"detokenize\"}', 'c0', 1, 'ab');",
        end,
      ].join('\n');
      const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.trim().split('\n');
      assert.equal(lines.length, 51, r.stdout);
      assert.deepEqual(
        lines.slice(0, 50).map((l) => JSON.parse(l).i),
        Array.from({ length: 50 }, (_, i) => i),
      );
      assert.equal(JSON.parse(lines[50]!).audit.operation, 'detokenize');
    });
  }
});
