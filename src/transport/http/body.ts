/**
 * Reads a JSON request body within the size limit: 415 when it is not
 * application/json, 413 past the limit (checked on Content-Length and while
 * streaming), 400 when it is not UTF-8 or not JSON.
 */
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

export async function readJson(request: Request, maxBytes: number): Promise<unknown> {
  if (!isJsonContentType(request.headers.get('content-type') ?? undefined)) {
    throw new SidekeyError('UNSUPPORTED_MEDIA_TYPE', 'the body must be application/json');
  }
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) {
    throw new SidekeyError('PAYLOAD_TOO_LARGE', `the body is over the limit of ${maxBytes} bytes`);
  }
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
        throw new SidekeyError('PAYLOAD_TOO_LARGE', `the body is over the limit of ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  const bytes = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
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
