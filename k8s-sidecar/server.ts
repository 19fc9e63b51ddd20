/**
 * The webhook's HTTPS listener: POST /mutate, GET /healthz, /readyz and
 * /metrics (the serving certificate's expiry).
 * Thin: it reads the body, calls review() and writes the answer. The serving
 * certificate and key are re-read while running, so a renewal by
 * cert-manager (or by hand) needs no restart.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { Registry } from 'prom-client';
import { registerCertificateExpiry } from '../src/observability/cert-expiry.js';
import { review } from './admission.js';
import type { MutationConfig } from './config.js';

/** The API server sends objects of at most a few MiB (etcd's limit is 1.5 MiB). */
const MAX_BODY_BYTES = 4 * 1024 * 1024;
const DEFAULT_TLS_RELOAD_MS = 30_000;

export interface InjectorServerOptions {
  readonly port: number;
  /** Default: every address (the API server reaches the webhook through its Service). */
  readonly host?: string;
  readonly tlsCertFile: string;
  readonly tlsKeyFile: string;
  readonly config: MutationConfig;
  readonly log: (msg: string) => void;
  /** How often the certificate files are checked for a change. */
  readonly tlsReloadIntervalMs?: number;
}

export interface InjectorServer {
  readonly port: number;
  /** Re-reads the certificate and key now; true when a new pair was loaded. */
  reloadTls(): boolean;
  close(): Promise<void>;
}

/** The serving certificate or key cannot be used; `file` says which setting to fix. */
export class TlsFilesError extends Error {
  override readonly name = 'TlsFilesError';
  constructor(
    readonly file: 'cert' | 'key',
    message: string,
  ) {
    super(message);
  }
}

interface TlsPair {
  readonly cert: string;
  readonly key: string;
}

function readTlsPair(certFile: string, keyFile: string): TlsPair {
  const read = (file: 'cert' | 'key', path: string): string => {
    try {
      return readFileSync(path, 'utf8');
    } catch (err) {
      throw new TlsFilesError(
        file,
        `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  };
  const pair = { cert: read('cert', certFile), key: read('key', keyFile) };
  if (!pair.cert.includes('-----BEGIN CERTIFICATE-----')) {
    throw new TlsFilesError('cert', `${certFile} holds no PEM certificate`);
  }
  try {
    // Parses both and checks that the key belongs to the certificate.
    createSecureContext(pair);
  } catch (err) {
    throw new TlsFilesError(
      'key',
      `${keyFile} is not the PEM private key of ${certFile} (${(err as Error).message})`,
    );
  }
  return pair;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The body, or 'too-large' as soon as it passes the limit (the rest is then read and dropped). */
function readBody(req: IncomingMessage): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk: Buffer) => {
      if (over) return;
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        over = true;
        chunks.length = 0;
        resolve('too-large');
      } else chunks.push(chunk);
    });
    req.on('end', () => {
      if (!over) resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

export async function startInjectorServer(options: InjectorServerOptions): Promise<InjectorServer> {
  const { config, log } = options;
  let current = readTlsPair(options.tlsCertFile, options.tlsKeyFile);
  // GET /metrics: the serving certificate's expiry, for the same alert as the sidecars' (deploy/monitoring).
  const metrics = new Registry();
  registerCertificateExpiry(metrics, { injector_serving: options.tlsCertFile });

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    if ((path === '/healthz' || path === '/readyz') && (req.method === 'GET' || req.method === 'HEAD')) {
      send(res, 200, { status: path === '/healthz' ? 'ok' : 'ready' });
      return;
    }
    if (path === '/metrics' && req.method === 'GET') {
      const text = await metrics.metrics();
      res.writeHead(200, { 'content-type': metrics.contentType, 'content-length': Buffer.byteLength(text) });
      res.end(text);
      return;
    }
    if (path !== '/mutate') {
      send(res, 404, { error: 'not found' });
      return;
    }
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST');
      send(res, 405, { error: 'use POST' });
      return;
    }
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/json') {
      send(res, 415, { error: 'body must be application/json' });
      return;
    }
    const body = await readBody(req);
    if (body === 'too-large') {
      // Answer, then discard the rest so the client reads the answer instead of a reset.
      res.setHeader('connection', 'close');
      send(res, 413, { error: `body over ${MAX_BODY_BYTES} bytes` });
      return;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      send(res, 400, { error: 'body is not JSON' });
      return;
    }
    const outcome = review(parsed, config);
    if (!outcome.ok) {
      log(`injector: bad request: ${outcome.error}`);
      send(res, 400, { error: outcome.error });
      return;
    }
    log(`injector: ${outcome.summary}`);
    send(res, 200, outcome.review);
  };

  const server: Server = createServer({ ...current, minVersion: 'TLSv1.2' }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      log(`injector: internal error: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, { error: 'internal error' });
      else res.destroy();
    });
  });
  server.requestTimeout = 15_000;
  server.headersTimeout = 10_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port, host: options.host }, () => {
      server.off('error', reject);
      resolve();
    });
  });

  let lastReloadError = '';
  const reloadTls = (): boolean => {
    let next: TlsPair;
    try {
      next = readTlsPair(options.tlsCertFile, options.tlsKeyFile);
    } catch (err) {
      // Mid-renewal the certificate can be new and the key still old: keep serving
      // with the pair in use and try again on the next tick.
      const message = (err as Error).message;
      if (message !== lastReloadError) log(`injector: keeping the current TLS certificate: ${message}`);
      lastReloadError = message;
      return false;
    }
    lastReloadError = '';
    if (next.cert === current.cert && next.key === current.key) return false;
    server.setSecureContext({ ...next, minVersion: 'TLSv1.2' });
    current = next;
    log('injector: loaded a new TLS certificate');
    return true;
  };
  const timer = setInterval(reloadTls, options.tlsReloadIntervalMs ?? DEFAULT_TLS_RELOAD_MS);
  timer.unref();

  const port = (server.address() as AddressInfo).port;
  log(`injector: serving https on port ${port} (mode ${config.mode}, image ${config.image})`);
  return {
    port,
    reloadTls,
    close: () =>
      new Promise<void>((resolve, reject) => {
        clearInterval(timer);
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
