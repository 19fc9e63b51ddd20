/**
 * Floor: a bare hono server on @hono/node-server (as sidekey serves HTTP)
 * doing one AES-256-GCM per request — parse the JSON body, seal its first
 * item under a cached key with a random nonce, answer a tokenize-shaped JSON
 * body. No validation, no guards, no store, no audit. A separate process;
 * it prints `{"event":"ready","port":N}` and runs until its stdin closes.
 *
 *   node --import tsx bench/floors/hono.ts
 */
import { createCipheriv, randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import { emit, exitWithParent } from '../lib/protocol.js';

const key = randomBytes(32);
const app = new Hono();
app.post('/v1/*', async (c) => {
  const body = await c.req.json<{ values?: string[]; tokens?: string[]; plaintexts?: string[] }>();
  const value = (body.values ?? body.plaintexts ?? body.tokens ?? [])[0] ?? '';
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  const sealed = Buffer.concat([nonce, cipher.update(value, 'utf8'), cipher.final(), cipher.getAuthTag()]);
  return c.json({ tokens: [`tok_${sealed.toString('base64url')}`] });
});

const server = createAdaptorServer({ fetch: app.fetch }) as import('node:http').Server;
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  emit({ event: 'ready', port: (server.address() as AddressInfo).port });
});
exitWithParent(() => server.close());
