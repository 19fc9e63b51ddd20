/**
 * Group commit of data subjects' records (issue 13; ADR-15). A subject's
 * records must not be acknowledged once its key is destroyed, so they are
 * written by a statement that locks their key rows (store
 * `writeSubjectTokens`), not by the shared token/audit flush. Concurrent
 * requests are still flushed together: rows queued during a turn of the
 * event loop go out as one statement, at most `maxInFlight` at once, and
 * each request learns whether ITS key was found (true: every one of its
 * rows is durable; false: none was written).
 */
import type { SubjectKeyRef, TokenRow } from '../store/index.js';

export interface SubjectWriterOptions {
  readonly maxRows: number;
  readonly maxInFlight?: number;
  readonly write: (rows: readonly TokenRow[]) => Promise<readonly SubjectKeyRef[]>;
}

interface Pending {
  readonly key: string;
  readonly rows: readonly TokenRow[];
  readonly resolve: (written: boolean) => void;
  readonly reject: (err: unknown) => void;
}

const keyOf = (tenant: string, keyId: string) => `${tenant}\u0000${keyId}`;

export class SubjectWriter {
  private queue: Pending[] = [];
  private inFlight = 0;
  private scheduled = false;
  private idle: (() => void)[] = [];
  private readonly maxInFlight: number;

  constructor(private readonly options: SubjectWriterOptions) {
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 1);
  }

  /** Resolves true once every row is durable, false when the subject's key is gone (nothing written). */
  writeSubjectTokens(tenant: string, keyId: string, rows: readonly TokenRow[]): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key: keyOf(tenant, keyId), rows, resolve, reject });
      this.kick();
    });
  }

  /** Waits until nothing is queued or in flight. */
  async drain(): Promise<void> {
    if (!this.busy()) return;
    await new Promise<void>((resolve) => this.idle.push(resolve));
  }

  private busy(): boolean {
    return this.scheduled || this.inFlight > 0 || this.queue.length > 0;
  }

  private kick(): void {
    if (this.scheduled || this.inFlight >= this.maxInFlight || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inFlight < this.maxInFlight && this.queue.length > 0) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    let n = 0;
    let i = 0;
    while (i < this.queue.length && (i === 0 || n + this.queue[i]!.rows.length <= this.options.maxRows)) {
      n += this.queue[i]!.rows.length;
      i++;
    }
    const batch = this.queue.splice(0, i);
    this.inFlight++;
    try {
      const found = new Set(
        (await this.options.write(batch.flatMap((p) => p.rows))).map((k) => keyOf(k.tenant, k.keyId)),
      );
      for (const p of batch) p.resolve(found.has(p.key));
    } catch (err) {
      for (const p of batch) p.reject(err);
    } finally {
      this.inFlight--;
      this.kick();
      if (!this.busy()) for (const w of this.idle.splice(0)) w();
    }
  }
}
