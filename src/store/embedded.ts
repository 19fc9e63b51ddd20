/**
 * The `embedded` store: PGlite (PostgreSQL compiled to WebAssembly) in
 * `<data dir>/pgdata`, so `npm start` needs nothing installed. Development
 * and single-pod use only: one process at a time (see dir-lock.ts).
 *
 * Durability: PGlite's default (relaxedDurability off) syncs its files after
 * every query, so a resolved write survives kill -9 of the process.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { PGlite, type Transaction } from '@electric-sql/pglite';
import { lockDataDir } from './dir-lock.js';
import { StoreUnavailableError } from './errors.js';
import type { Store } from './port.js';
import type { SqlClient, SqlExecutor, SqlResult } from './sql-client.js';
import { SqlStore } from './sql-store.js';

function executor(db: PGlite | Transaction, isClosed: () => boolean): SqlExecutor {
  const open = () => {
    if (isClosed()) throw new StoreUnavailableError('the embedded store is closed', 'closed');
  };
  return {
    async query<R>(sql: string, params?: readonly unknown[]): Promise<SqlResult<R>> {
      open();
      const r = await db.query<R>(sql, params as unknown[] | undefined);
      return { rows: r.rows, rowCount: r.affectedRows ?? r.rows.length };
    },
    async exec(sql: string): Promise<void> {
      open();
      await db.exec(sql);
    },
  };
}

export async function openEmbeddedStore(dataDir: string): Promise<Store> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock = await lockDataDir(dataDir);
  try {
    const db = await PGlite.create(join(dataDir, 'pgdata'));
    let closed = false;
    const isClosed = () => closed;
    const client: SqlClient = {
      ...executor(db, isClosed),
      transaction: (fn) => {
        if (closed)
          return Promise.reject(new StoreUnavailableError('the embedded store is closed', 'closed'));
        return db.transaction((tx) => fn(executor(tx, isClosed)));
      },
      async close() {
        if (closed) return;
        closed = true;
        try {
          await db.close();
        } finally {
          lock.release();
        }
      },
    };
    return new SqlStore('embedded', client);
  } catch (err) {
    lock.release();
    throw err;
  }
}
