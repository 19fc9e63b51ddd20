/**
 * The HTTP transport (API.md): hono routes over the TokenService. Parses,
 * calls the service, maps the result; nothing else happens here.
 */
import { randomUUID } from 'node:crypto';
import type { HttpBindings } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import { type ErrorCode, httpStatusOf, SidekeyError } from '../../errors/index.js';
import type { Readiness, RefusalReason } from '../../observability/index.js';
import type { CallContext, TokenService } from '../../service/index.js';
import { readJson, readJsonFromNode } from './body.js';
import { allowedHost, allowedHostSet, bearerMatches, fromBrowser, tokenDigest } from './guards.js';
import { DATA_ROUTES, serviceMethodOf } from './routes.js';

export interface HttpDeps {
  readonly service: Pick<
    TokenService,
    'tokenize' | 'detokenize' | 'encrypt' | 'decrypt' | 'deleteTokens' | 'forgetSubjects' | 'ingestKeys'
  >;
  readonly readiness: () => Promise<Readiness>;
  readonly metrics: () => Promise<{ contentType: string; body: string }>;
  readonly bindHost: string;
  readonly maxBodyBytes: number;
  /** When set, data calls need `Authorization: Bearer <token>`. */
  readonly clientToken: string | undefined;
  readonly onInternalError: (err: unknown, requestId: string) => void;
  /** Told of every request refused before the service (metrics); never given the request. */
  readonly onRefused?: (reason: RefusalReason) => void;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** A request header, read from Node's IncomingMessage when there is one (no Web Headers object built). */
function header(c: Context<Env>, name: string): string | undefined {
  const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
  if (incoming === undefined) return c.req.header(name);
  const v = incoming.headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

type Env = { Variables: { requestId: string } };

export function createHttpApp(deps: HttpDeps): Hono<Env> {
  const app = new Hono<Env>();
  const hosts = allowedHostSet(deps.bindHost);
  const clientTokenDigest = deps.clientToken === undefined ? undefined : tokenDigest(deps.clientToken);
  const refused = deps.onRefused ?? (() => {});

  const fail = (c: Context<Env>, code: ErrorCode, message: string) => {
    // An unread request body may still be arriving: close the connection
    // rather than leave the rest of it to be parsed as the next request.
    if (code === 'PAYLOAD_TOO_LARGE') c.header('Connection', 'close');
    return c.json({ error: { code, message, requestId: c.get('requestId') } }, httpStatusOf(code) as 400);
  };

  app.use('*', async (c, next) => {
    const given = header(c, 'x-request-id');
    const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID();
    c.set('requestId', requestId);
    c.header('X-Request-Id', requestId);
    if (!allowedHost(header(c, 'host'), hosts)) {
      refused('host');
      return fail(
        c,
        'PERMISSION_DENIED',
        'the Host header must be a loopback address (127.0.0.1, [::1] or localhost)',
      );
    }
    if (fromBrowser(header(c, 'origin'), header(c, 'sec-fetch-site'))) {
      refused('origin');
      return fail(c, 'PERMISSION_DENIED', 'requests from browsers (with an Origin header) are refused');
    }
    await next();
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const r = await deps.readiness();
    return r.ready ? c.json({ status: 'ready' }) : c.json({ status: 'not_ready', checks: r.checks }, 503);
  });
  app.get('/metrics', async (c) => {
    const m = await deps.metrics();
    return c.body(m.body, 200, { 'Content-Type': m.contentType });
  });

  // Built once, on the first GET /openapi.json (never per request, never at start: a
  // sidecar that is never asked for it does not hold the document, ADR-19).
  let openApi: Promise<string> | undefined;
  app.get('/openapi.json', async (c) => {
    openApi ??= import('./openapi.js').then((m) => JSON.stringify(m.openApiDocument()));
    return c.body(await openApi, 200, { 'Content-Type': 'application/json' });
  });

  for (const [path, rpc] of Object.entries(DATA_ROUTES)) {
    const method = serviceMethodOf(rpc);
    app.post(path, async (c) => {
      if (clientTokenDigest !== undefined && !bearerMatches(header(c, 'authorization'), clientTokenDigest)) {
        refused('client_token');
        return fail(c, 'UNAUTHENTICATED', 'a valid client token (Authorization: Bearer) is required');
      }
      const incoming = (c.env as Partial<HttpBindings> | undefined)?.incoming;
      let body: unknown;
      try {
        body =
          incoming === undefined
            ? await readJson(c.req.raw, deps.maxBodyBytes)
            : await readJsonFromNode(incoming, deps.maxBodyBytes);
      } catch (err) {
        // Thrown at once (headers) or while reading (the size limit).
        if (err instanceof SidekeyError && err.code === 'UNSUPPORTED_MEDIA_TYPE') refused('content_type');
        if (err instanceof SidekeyError && err.code === 'PAYLOAD_TOO_LARGE') refused('body_size');
        throw err;
      }
      const ctx: CallContext = {
        orkString: header(c, 'x-sidekey-org-key'),
        requestId: c.get('requestId'),
        caller: 'http',
      };
      const result = await deps.service[method](body, ctx);
      return c.json(result);
    });
  }

  app.notFound((c) => {
    refused('route');
    return fail(c, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}`);
  });
  app.onError((err, c) => {
    if (err instanceof SidekeyError) return fail(c, err.code, err.message);
    deps.onInternalError(err, c.get('requestId'));
    return fail(c, 'INTERNAL', 'internal error; see the server log for this request id');
  });
  return app;
}
