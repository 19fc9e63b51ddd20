/**
 * sidekey over loopback HTTP with fetch: POST /v1/<operation>, the ORK in
 * X-Sidekey-Org-Key, a request id in X-Request-Id; an error answer becomes a
 * SidekeyError with the server's code, message and request id.
 */
import { type ClientOptions, DEFAULT_URL, resolveOrk } from './config.js';
import { SidekeyError } from './errors.js';
import { callSignal, requestIdFor, withRetries } from './retry.js';
import type { CallOptions, SidekeyClient } from './types.js';

export interface HttpClientOptions extends ClientOptions {
  /** Default SIDEKEY_URL, else http://127.0.0.1:7600. */
  readonly url?: string;
  /** Default the global fetch. */
  readonly fetch?: typeof fetch;
}

const PATHS = {
  tokenize: '/v1/tokenize',
  detokenize: '/v1/detokenize',
  encrypt: '/v1/encrypt',
  decrypt: '/v1/decrypt',
  deleteTokens: '/v1/tokens/delete',
  forgetSubjects: '/v1/subjects/forget',
  getIngestKeys: '/v1/ingest/keys',
} as const satisfies Record<Exclude<keyof SidekeyClient, 'close'>, string>;

/** The code of a status when the body is not sidekey's error envelope (a proxy, a crash). */
function codeOfStatus(status: number): string {
  return status === 503 || status === 502 || status === 504 ? 'UNAVAILABLE' : 'INTERNAL';
}

export function createHttpClient(options: HttpClientOptions = {}): SidekeyClient {
  const env = options.env ?? process.env;
  const base = (options.url ?? env.SIDEKEY_URL ?? DEFAULT_URL).replace(/\/+$/, '');
  const ork = resolveOrk(options, env);
  const doFetch = options.fetch ?? fetch;

  async function once(path: string, body: string, requestId: string, signal: AbortSignal): Promise<unknown> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-sidekey-org-key': ork,
      'x-request-id': requestId,
      ...(options.clientToken !== undefined && { authorization: `Bearer ${options.clientToken}` }),
    };
    let response: Response;
    try {
      response = await doFetch(`${base}${path}`, { method: 'POST', headers, body, signal });
    } catch (err) {
      if (signal.aborted) throw err;
      throw new SidekeyError('UNAVAILABLE', `cannot reach sidekey at ${base}`, { requestId, cause: err });
    }
    const echoed = response.headers.get('x-request-id') ?? requestId;
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (response.ok && parsed !== undefined) return parsed;
    const error = (parsed as { error?: { code?: unknown; message?: unknown; requestId?: unknown } })?.error;
    if (typeof error?.code === 'string' && typeof error.message === 'string') {
      throw new SidekeyError(error.code, error.message, {
        requestId: typeof error.requestId === 'string' ? error.requestId : echoed,
        status: response.status,
      });
    }
    throw new SidekeyError(codeOfStatus(response.status), `sidekey answered HTTP ${response.status}`, {
      requestId: echoed,
      status: response.status,
    });
  }

  const operation =
    (name: keyof typeof PATHS) =>
    (request: object, call: CallOptions = {}): Promise<never> => {
      const requestId = requestIdFor(call.requestId);
      const body = JSON.stringify(request);
      const signal = callSignal(call);
      return withRetries(options.retry, signal, () =>
        once(PATHS[name], body, requestId, signal),
      ) as Promise<never>;
    };

  return {
    tokenize: operation('tokenize'),
    detokenize: operation('detokenize'),
    encrypt: operation('encrypt'),
    decrypt: operation('decrypt'),
    deleteTokens: operation('deleteTokens'),
    forgetSubjects: operation('forgetSubjects'),
    getIngestKeys: operation('getIngestKeys'),
    close: () => {},
  };
}
