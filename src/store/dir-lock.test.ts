/**
 * The data-directory lock belongs to a live process only: a SIGKILLed owner
 * releases it at once, even while it is still a zombie (its pid still
 * "alive" to kill(pid, 0), as a reused pid would be); a live owner is never
 * displaced.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DataDirLockedError, lockDataDir } from './dir-lock.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'sidekey-lock-'));
  dirs.push(d);
  return d;
};

/**
 * A process holding the lock on `dir`, started by a shell that then execs
 * `sleep`, which never reaps it: once killed, the holder stays a zombie.
 */
async function holder(dir: string): Promise<{ pid: number; stop(): void }> {
  const script = join(tmp(), 'hold.mjs');
  writeFileSync(
    script,
    `import { lockDataDir } from ${JSON.stringify(join(import.meta.dirname, 'dir-lock.ts'))};
await lockDataDir(${JSON.stringify(dir)});
process.stdout.write('locked ' + process.pid + '\\n');
setInterval(() => {}, 1 << 30);
`,
  );
  const sh = spawn('sh', ['-c', `"${process.execPath}" --import tsx "${script}" & exec sleep 600`], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  const pid = await new Promise<number>((resolve, reject) => {
    sh.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /locked (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    sh.on('exit', () => reject(new Error(`holder exited: ${out}`)));
  });
  return {
    pid,
    stop() {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
      sh.kill('SIGKILL');
    },
  };
}

describe('data directory lock', () => {
  it('refuses while a live process holds it, naming its pid', async () => {
    const dir = tmp();
    const h = await holder(dir);
    try {
      await assert.rejects(lockDataDir(dir), (err: unknown) => {
        assert.ok(err instanceof DataDirLockedError);
        assert.equal(err.pid, h.pid);
        return true;
      });
    } finally {
      h.stop();
    }
  });

  it('is free right after kill -9 of its owner, while the owner is still a zombie', async () => {
    const dir = tmp();
    const h = await holder(dir);
    try {
      process.kill(h.pid, 'SIGKILL');
      // The pid stays "alive" (a zombie nobody reaps), as a reused pid would.
      await new Promise((r) => setTimeout(r, 100));
      assert.doesNotThrow(() => process.kill(h.pid, 0));
      const lock = await lockDataDir(dir);
      lock.release();
    } finally {
      h.stop();
    }
  });

  it('is released by release() and taken again in the same process', async () => {
    const dir = tmp();
    const a = await lockDataDir(dir);
    await assert.rejects(lockDataDir(dir), DataDirLockedError);
    a.release();
    const b = await lockDataDir(dir);
    b.release();
  });
});
