/**
 * What an administrative command needs: the configuration, the KEK ring and
 * the store (never the HTTP listener). In embedded mode opening the store
 * takes the data-directory lock, so a command run while a daemon holds it
 * fails with a clear message instead of corrupting the store.
 */
import { type AuditEvent, Auditor } from '../audit/index.js';
import { type Config, loadConfig } from '../config/index.js';
import { systemRandom } from '../crypto/index.js';
import { createKekRing, type KekRing } from '../kms/index.js';
import { createLoggers, type Loggers, stderrDestination } from '../observability/index.js';
import { openStore, type Store } from '../store/index.js';
import { GroupCommitWriter } from '../writer/group-commit.js';
import type { CliIo } from './io.js';

export interface AdminContext {
  readonly config: Config;
  readonly store: Store;
  readonly keks: KekRing;
  readonly loggers: Loggers;
  /** Records a lifecycle event in this command's own audit chain (durable before the command ends). */
  audit(event: Omit<AuditEvent, 'time' | 'caller'>): Promise<void>;
}

export async function withAdmin<T>(
  io: CliIo,
  work: (ctx: AdminContext) => Promise<T>,
  options: { migrateEmbedded?: boolean } = {},
): Promise<T> {
  const config = loadConfig(io.env, io.cwd);
  // Command output owns stdout; logs (and the audit stream of this command) go to stderr.
  const loggers = createLoggers(config.logLevel === 'info' ? 'error' : config.logLevel, stderrDestination());
  const keks = await createKekRing(config, { random: systemRandom, warn: (m) => loggers.log.warn(m) });
  let store: Store | undefined;
  let auditor: Auditor | undefined;
  let writer: GroupCommitWriter | undefined;
  try {
    store = await openStore(config.store, config.dataDir);
    if (store.kind === 'embedded' && options.migrateEmbedded !== false) await store.migrate();
    const s = store;
    const ctx: AdminContext = {
      config,
      store: s,
      keks,
      loggers,
      async audit(event) {
        if (auditor === undefined) {
          writer = new GroupCommitWriter({ maxRows: 100, write: (b) => s.write(b) });
          auditor = await Auditor.open({
            store: s,
            kek: keks.primary,
            sink: writer,
            log: loggers.audit,
            lines: loggers.auditLines,
          });
        }
        await auditor.record({ time: new Date().toISOString(), caller: 'cli', ...event });
      },
    };
    return await work(ctx);
  } finally {
    await writer?.close();
    auditor?.close();
    await store?.close();
    for (const k of keks.all()) await k.close();
    loggers.log.flush();
    loggers.audit.flush();
  }
}
