/**
 * A daemon in a process of its own for the key-memory test: the real
 * composition root (startTestDaemon), driven by the parent over IPC so the
 * parent can search this process's memory while it waits. Nothing here ever
 * sees the parent's copies of the keys.
 *
 *   parent → {cmd: 'evict'}     drops every cached key (keyring.clear(): the path of a
 *                               missed-notification reconnect; expiry by TTL goes through
 *                               the same dispose-and-zero, src/keyring/key-cache.test.ts)
 *   parent → {cmd: 'snapshot', file}  writes a V8 heap snapshot (after a full GC)
 *   parent → {cmd: 'close'}     the graceful shutdown path (daemon.close())
 *   parent → {cmd: 'exit'}
 */
import { writeHeapSnapshot } from 'node:v8';
import { startTestDaemon } from '../support/daemon.js';

const [dataDir] = process.argv.slice(2);
if (dataDir === undefined || process.send === undefined) throw new Error('run by key-memory.test.ts');
const send = (m: object) => process.send?.(m);

const d = await startTestDaemon(
  // Long TTLs: the keys stay cached until the parent has searched for them (the positive control).
  { SIDEKEY_TEK_CACHE_TTL_SECONDS: '3600', SIDEKEY_ORK_CACHE_TTL_SECONDS: '3600', SIDEKEY_LOG_LEVEL: 'info' },
  { dataDir },
);
send({ ready: true, url: d.url });

process.on('message', async (m: { cmd: string; file?: string }) => {
  switch (m.cmd) {
    case 'evict': {
      d.daemon.keyring.clear();
      const sizes = d.daemon.keyring.cacheSizes();
      if (sizes.ork + sizes.tek + sizes.fdk !== 0)
        return send({ error: `caches not empty: ${JSON.stringify(sizes)}` });
      return send({ done: 'evict' });
    }
    case 'snapshot':
      writeHeapSnapshot(m.file);
      return send({ done: 'snapshot' });
    case 'close':
      await d.daemon.close();
      return send({ done: 'close' });
    case 'exit':
      process.exit(0);
  }
});
