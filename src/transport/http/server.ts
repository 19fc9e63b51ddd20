/**
 * Binds the HTTP app to a loopback address. The address was validated as
 * loopback by the configuration; this refuses again (fail closed) in case a
 * caller bypassed it.
 */
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import { isLoopbackHost } from '../../config/index.js';

export interface HttpServerHandle {
  readonly port: number;
  readonly host: string;
  /** Stops accepting, lets in-flight requests finish, then closes idle keep-alive connections. */
  close(): Promise<void>;
}

// biome-ignore lint/suspicious/noExplicitAny: any hono env
export async function listenHttp(app: Hono<any>, host: string, port: number): Promise<HttpServerHandle> {
  if (!isLoopbackHost(host)) throw new Error(`refusing to listen on ${host}: sidekey serves loopback only`);
  const server = createAdaptorServer({ fetch: app.fetch }) as import('node:http').Server;
  server.keepAliveTimeout = 65_000;
  const bindHost = host.startsWith('[') ? host.slice(1, -1) : host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, bindHost, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    port: address.port,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        // Connections that go idle after their in-flight request finished.
        const sweep = setInterval(() => server.closeIdleConnections(), 100);
        sweep.unref();
        server.once('close', () => clearInterval(sweep));
      }),
  };
}
