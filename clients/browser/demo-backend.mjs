/**
 * The application backend of the browser demo (clients/browser/demo.html):
 * serves the page and the sealing module, hands the page sidekey's ingest
 * keys, and forwards the sealed strings the page posts to sidekey's
 * tokenize. It only ever holds sealed strings and tokens.
 *
 *   SIDEKEY_URL=http://127.0.0.1:8787 SIDEKEY_ORK=sk_ork_… TENANT=demo FIELD=card \
 *     node clients/browser/demo-backend.mjs        # then open the URL it prints
 *
 * Environment: PORT (default 0 = any), HEAP_SNAPSHOT_DIR (tests: on
 * SIGUSR2 it writes a heap snapshot there and exits).
 */
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

const ROOT = resolve(new URL('../..', import.meta.url).pathname);
/** What the page may load: the demo, the module, and the @hpke libraries' ES modules. */
const SERVED = [
  /^\/clients\/browser\/[\w.-]+\.(html|js)$/,
  /^\/node_modules\/(@hpke\/[\w-]+|mlkem)\/esm\/[\w./-]+\.js$/,
];
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8' };

const sidekey = process.env.SIDEKEY_URL ?? 'http://127.0.0.1:8787';
const ork = process.env.SIDEKEY_ORK ?? '';
const tenant = process.env.TENANT ?? 'demo';
const field = process.env.FIELD ?? 'card';
/** What a backend keeps: the tokens (in a real one, in its database). */
const keptTokens = [];

async function callSidekey(path, body) {
  const r = await fetch(`${sidekey}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-sidekey-org-key': ork },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}

function readBody(req) {
  return new Promise((ok, fail) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 1 << 22) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => ok(Buffer.concat(chunks).toString('utf8')));
    req.on('error', fail);
  });
}

const server = createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const reply = (status, type, body) => {
    res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
    res.end(body);
  };
  try {
    if (req.method === 'GET' && url.pathname === '/clients/browser/keys') {
      const r = await callSidekey('/v1/ingest/keys', { tenant });
      return reply(r.status, 'application/json', JSON.stringify(r.body));
    }
    if (req.method === 'POST' && url.pathname === '/clients/browser/submit') {
      const { sealedValues } = JSON.parse(await readBody(req));
      const r = await callSidekey('/v1/tokenize', { tenant, field, sealedValues });
      if (Array.isArray(r.body.tokens)) keptTokens.push(...r.body.tokens);
      // For the test: one line on stdout (tokens only, never a value).
      process.stdout.write(`${JSON.stringify({ event: 'tokenized', status: r.status, body: r.body })}\n`);
      return reply(r.status, 'application/json', JSON.stringify(r.body));
    }
    const path = normalize(url.pathname);
    if (req.method === 'GET' && SERVED.some((p) => p.test(path))) {
      const file = await readFile(join(ROOT, path));
      return reply(200, TYPES[extname(path)] ?? 'application/octet-stream', file);
    }
    reply(404, 'text/plain', 'not found');
  } catch (err) {
    reply(500, 'text/plain', String(err?.message ?? err));
  }
});

server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const { port } = server.address();
  process.stdout.write(
    `${JSON.stringify({ event: 'listening', url: `http://127.0.0.1:${port}/clients/browser/demo.html` })}\n`,
  );
});

process.on('SIGUSR2', () => {
  const dir = process.env.HEAP_SNAPSHOT_DIR;
  if (dir !== undefined) {
    const file = writeHeapSnapshot(join(dir, 'backend.heapsnapshot'));
    process.stdout.write(`${JSON.stringify({ event: 'heap-snapshot', file })}\n`);
  }
  server.close();
  process.exit(0);
});
process.on('SIGTERM', () => {
  server.close();
  process.exit(0);
});
