/**
 * A small HTTP client for the tests: raw status, headers and parsed JSON
 * body. Every exchange is checked against the OpenAPI document
 * (openapi-contract.ts): a call whose request or response breaks it fails.
 */
import { request } from 'node:http';
import { checkExchange } from './openapi-contract.js';

export interface HttpResult {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test convenience
  readonly body: any;
}

export function call(
  url: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string | Buffer | object } = {},
): Promise<HttpResult> {
  const body =
    options.body === undefined
      ? undefined
      : typeof options.body === 'string' || Buffer.isBuffer(options.body)
        ? options.body
        : JSON.stringify(options.body);
  const headers: Record<string, string> = {
    ...(body !== undefined && { 'content-type': 'application/json' }),
    ...options.headers,
  };
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown;
          try {
            parsed = JSON.parse(text);
          } catch {
            parsed = undefined;
          }
          const status = res.statusCode ?? 0;
          try {
            checkExchange({
              method: options.method ?? (body === undefined ? 'GET' : 'POST'),
              path,
              requestContentType: Object.entries(headers).find(
                ([k]) => k.toLowerCase() === 'content-type',
              )?.[1],
              requestBody: body,
              status,
              responseContentType: res.headers['content-type'],
              responseText: text,
            });
          } catch (err) {
            reject(err);
            return;
          }
          resolve({ status, headers: res.headers, text, body: parsed });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

/** POST a data call with the ORK header. */
export function post(
  url: string,
  path: string,
  ork: string | undefined,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return call(url, path, {
    body: body as object,
    headers: { ...(ork !== undefined && { 'x-sidekey-org-key': ork }), ...headers },
  });
}
