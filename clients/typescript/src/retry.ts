/**
 * Retries with exponential backoff and full jitter, only for UNAVAILABLE
 * (the daemon is starting, or its KMS or store is briefly away: the server
 * says retrying is safe). Every other error is returned at once.
 */
import { SidekeyError } from './errors.js';

export interface RetryOptions {
  /** Attempts in all, the first included (default 3; 1 turns retries off). */
  readonly attempts?: number;
  /** The first wait, doubled after each attempt (default 100 ms). */
  readonly baseDelayMs?: number;
  /** The longest wait (default 2000 ms). */
  readonly maxDelayMs?: number;
  /** Told of each retry before its wait. */
  readonly onRetry?: (info: { attempt: number; delayMs: number; error: SidekeyError }) => void;
}

export async function withRetries<T>(
  options: RetryOptions | undefined,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
): Promise<T> {
  const attempts = Math.max(1, options?.attempts ?? 3);
  const base = options?.baseDelayMs ?? 100;
  const max = options?.maxDelayMs ?? 2000;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof SidekeyError) || err.code !== 'UNAVAILABLE' || n >= attempts || signal?.aborted) {
        throw err;
      }
      const delayMs = Math.round(Math.random() * Math.min(max, base * 2 ** (n - 1)));
      options?.onRetry?.({ attempt: n, delayMs, error: err });
      await sleep(delayMs, signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The caller's request id, or a new one; the same for every attempt of a call. */
export function requestIdFor(given: string | undefined): string {
  if (given === undefined) return crypto.randomUUID();
  if (!REQUEST_ID.test(given)) throw new TypeError('requestId must be 1 to 128 of A-Za-z0-9._:-');
  return given;
}

/** One signal for the whole call, retries included: the caller's and its timeout. */
export function callSignal(call: {
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
}): AbortSignal {
  const signals = [
    call.signal,
    call.timeoutMs === undefined ? undefined : AbortSignal.timeout(call.timeoutMs),
  ];
  return AbortSignal.any(signals.filter((s): s is AbortSignal => s !== undefined));
}
