/**
 * The little SQL surface both store adapters provide: PGlite and pg both
 * speak PostgreSQL with $n parameters. Keeping the adapters this thin is what
 * lets one SqlStore (and one contract suite) serve both.
 */

export interface SqlResult<R> {
  readonly rows: R[];
  readonly rowCount: number;
}

export interface QueryOptions {
  /**
   * A hot statement: the pg adapter prepares it once per connection under
   * this name (parse and analysis are not repeated on every call; no
   * Parse message on the wire either). PGlite ignores it. Each name must
   * always carry the same text.
   */
  readonly prepareAs?: string;
}

export interface SqlExecutor {
  query<R = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: QueryOptions,
  ): Promise<SqlResult<R>>;
  /** Runs a script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlClient extends SqlExecutor {
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** bytea comes back as Buffer from pg and as Uint8Array from PGlite. */
export function toBuffer(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError('expected bytea');
}
