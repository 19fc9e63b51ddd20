/**
 * Reads a JSON request body within the size limit: 415 when it is not
 * application/json, 413 past the limit (checked on Content-Length and while
 * reading), 400 when it is not UTF-8 or not JSON.
 *
 * On Node the body is read straight from the IncomingMessage: going through
 * the Web `Request` makes @hono/node-server build an undici Request, an
 * AbortController and a web stream per request, which was a fifth of the CPU
 * of a small tokenize (bench/, docs/performance.md).
 */
import type { IncomingMessage } from 'node:http';
import { SidekeyError } from '../../errors/index.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

export function isJsonContentType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...params] = header.split(';').map((s) => s.trim().toLowerCase());
  if (type !== 'application/json') return false;
  for (const p of params) {
    const [k, v] = p.split('=').map((s) => s.trim());
    if (k === 'charset' && v !== 'utf-8' && v !== 'utf8' && v !== '"utf-8"') return false;
  }
  return true;
}

const tooLarge = (maxBytes: number) =>
  new SidekeyError('PAYLOAD_TOO_LARGE', `the body is over the limit of ${maxBytes} bytes`);

function checkHeaders(
  contentType: string | undefined,
  contentLength: string | undefined,
  maxBytes: number,
): void {
  if (!isJsonContentType(contentType)) {
    throw new SidekeyError('UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json');
  }
  if (contentLength !== undefined && Number(contentLength) > maxBytes) throw tooLarge(maxBytes);
}

function parse(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new SidekeyError('INVALID_ARGUMENT', 'the body is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new SidekeyError('INVALID_ARGUMENT', 'the body is not valid JSON');
  }
}

/** From Node's IncomingMessage (the server path). */
export function readJsonFromNode(incoming: IncomingMessage, maxBytes: number): Promise<unknown> {
  checkHeaders(incoming.headers['content-type'], incoming.headers['content-length'], maxBytes);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        // The rest is not read; the 413 response closes the connection.
        incoming.pause();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      try {
        resolve(parse(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
      } catch (err) {
        reject(err);
      }
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      incoming.off('data', onData);
      incoming.off('end', onEnd);
      incoming.off('error', onError);
    };
    incoming.on('data', onData);
    incoming.on('end', onEnd);
    incoming.on('error', onError);
  });
}

/** From a Web Request (any other runtime, and the adapter's unit tests). */
export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  checkHeaders(
    request.headers.get('content-type') ?? undefined,
    request.headers.get('content-length') ?? undefined,
    maxBytes,
  );
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  }
  return parse(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
}
