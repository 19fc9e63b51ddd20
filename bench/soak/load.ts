/**
 * The soak's mixed load: a few closed-loop workers, each picking one of the
 * five operations on one of the two transports at random, on a shared pool
 * of recent tokens and ciphertexts. Workers never stop on an error: every
 * outcome is counted by its code, and the soak decides what is acceptable
 * (UNAVAILABLE while PostgreSQL restarts; never INTERNAL).
 */
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { SidekeyClient } from '../../src/transport/grpc/generated/sidekey/v1/Sidekey.js';
import { callGrpc, type Method } from '../../test/grpc/support.js';

export interface Outcome {
  readonly transport: 'http' | 'grpc';
  readonly op: Method;
  /** `OK`, an API error code, or `NETWORK`/`TIMEOUT`. */
  readonly code: string;
  readonly ms: number;
}

export interface Target {
  readonly url: string;
  readonly grpc: SidekeyClient;
  readonly tenant: string;
  /** The ORK the load uses; swapped when the soak rotates it. */
  ork: string;
}

const HTTP_PATH: Record<Method, string> = {
  Tokenize: '/v1/tokenize',
  Detokenize: '/v1/detokenize',
  Encrypt: '/v1/encrypt',
  Decrypt: '/v1/decrypt',
  DeleteTokens: '/v1/tokens/delete',
};

const GRPC_CODE: Record<number, string> = {
  [GrpcStatus.INVALID_ARGUMENT]: 'INVALID_ARGUMENT',
  [GrpcStatus.UNAUTHENTICATED]: 'UNAUTHENTICATED',
  [GrpcStatus.PERMISSION_DENIED]: 'PERMISSION_DENIED',
  [GrpcStatus.NOT_FOUND]: 'NOT_FOUND',
  [GrpcStatus.FAILED_PRECONDITION]: 'FAILED_PRECONDITION',
  [GrpcStatus.RESOURCE_EXHAUSTED]: 'RESOURCE_EXHAUSTED',
  [GrpcStatus.UNAVAILABLE]: 'UNAVAILABLE',
  [GrpcStatus.INTERNAL]: 'INTERNAL',
  [GrpcStatus.UNKNOWN]: 'UNKNOWN',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'TIMEOUT',
};

type Body = Record<string, unknown>;

/** One call on one transport; answers the parsed response body (or undefined) and the outcome. */
export async function invoke(
  target: Target,
  transport: 'http' | 'grpc',
  op: Method,
  body: Body,
  ork = target.ork,
): Promise<{ outcome: Outcome; response: Body | undefined }> {
  const started = performance.now();
  if (transport === 'http') {
    try {
      const res = await fetch(`${target.url}${HTTP_PATH[op]}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-sidekey-org-key': ork },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
      const parsed = (await res.json().catch(() => undefined)) as Body | undefined;
      const code = res.ok ? 'OK' : String((parsed?.error as Body | undefined)?.code ?? `HTTP_${res.status}`);
      return { outcome: { transport, op, code, ms: performance.now() - started }, response: parsed };
    } catch (err) {
      const code = (err as Error).name === 'TimeoutError' ? 'TIMEOUT' : 'NETWORK';
      return { outcome: { transport, op, code, ms: performance.now() - started }, response: undefined };
    }
  }
  // Every field of these bodies is one word: the JSON and proto names are the same.
  const r = await callGrpc(target.grpc, op, body, { ork, deadlineMs: 30_000 });
  const code = r.ok ? 'OK' : (GRPC_CODE[r.code] ?? `GRPC_${r.code}`);
  return {
    outcome: { transport, op, code, ms: performance.now() - started },
    response: r.ok ? (r.response as Body) : undefined,
  };
}

const POOL = 2_000;
const FIELDS = ['email', 'ssn', 'card.number'];

/** Recent tokens and ciphertexts of the load, bounded. */
class Pool<T> {
  private readonly items: T[] = [];
  add(xs: readonly T[]): void {
    for (const x of xs) {
      if (this.items.length < POOL) this.items.push(x);
      else this.items[Math.floor(Math.random() * POOL)] = x;
    }
  }
  pick(n: number): T[] {
    if (this.items.length === 0) return [];
    return Array.from({ length: n }, () => this.items[Math.floor(Math.random() * this.items.length)] as T);
  }
  take(n: number): T[] {
    const out: T[] = [];
    for (let i = 0; i < n && this.items.length > 0; i++) {
      out.push(this.items.splice(Math.floor(Math.random() * this.items.length), 1)[0] as T);
    }
    return out;
  }
}

function values(n: number): string[] {
  return Array.from({ length: n }, () => `soak-${Math.random().toString(36).slice(2)}-✓`);
}

export interface LoadOptions {
  readonly workers: number;
  readonly record: (o: Outcome) => void;
  readonly running: () => boolean;
}

/** Runs the workers until `running()` turns false. */
export async function runLoad(target: Target, opts: LoadOptions): Promise<void> {
  const tokens = new Pool<string>();
  const ciphertexts = new Pool<{ field: string; c: string }>();
  const worker = async () => {
    while (opts.running()) {
      const transport = Math.random() < 0.5 ? 'http' : 'grpc';
      const roll = Math.random();
      const n = Math.random() < 0.8 ? 1 : 50;
      const field = FIELDS[Math.floor(Math.random() * FIELDS.length)] as string;
      const tenant = target.tenant;
      let op: Method;
      let body: Body;
      if (roll < 0.35 || tokens.pick(1).length === 0) {
        op = 'Tokenize';
        body = { tenant, field, values: values(n) };
      } else if (roll < 0.65) {
        op = 'Detokenize';
        body = { tenant, tokens: tokens.pick(n), purpose: 'soak' };
      } else if (roll < 0.8) {
        op = 'Encrypt';
        body = { tenant, field, plaintexts: values(n), context: 'soak' };
      } else if (roll < 0.95 && ciphertexts.pick(1).length > 0) {
        op = 'Decrypt';
        const picked = ciphertexts.pick(1)[0]!;
        body = {
          tenant,
          field: picked.field,
          ciphertexts: [picked.c, ...ciphertexts.pick(n - 1).map((x) => x.c)],
          context: 'soak',
        };
      } else {
        op = 'DeleteTokens';
        const ts = tokens.take(Math.min(n, 5));
        if (ts.length === 0) continue;
        body = { tenant, tokens: ts };
      }
      const { outcome, response } = await invoke(target, transport, op, body);
      opts.record(outcome);
      if (outcome.code !== 'OK' || response === undefined) continue;
      if (op === 'Tokenize') tokens.add(response.tokens as string[]);
      if (op === 'Encrypt') ciphertexts.add((response.ciphertexts as string[]).map((c) => ({ field, c })));
    }
  };
  await Promise.all(Array.from({ length: opts.workers }, worker));
}
