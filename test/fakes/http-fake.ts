/**
 * What the wire-compatible fakes (AWS KMS, Vault) share: a loopback HTTP(S)
 * server whose outages tests control — hang (accept, never answer), down
 * (connection refused, open connections dropped) and up again on the same
 * port. Each fake supplies its server (plain or TLS) and its request handler.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export abstract class HttpFake {
  private hanging = false;
  private readonly sockets = new Set<Socket>();
  private server: Server | undefined;
  protected port = 0;

  /** A new, not yet listening server (called again by `up`). */
  protected abstract newServer(): Server;
  /** Answers one request whose body has been read. */
  protected abstract respond(req: IncomingMessage, res: ServerResponse, body: Buffer): Promise<void> | void;
  /** Answers a request whose handler threw something the fake did not mean to. */
  protected abstract internalError(res: ServerResponse, err: unknown): void;

  /** Accept requests but never answer them (until `hang(false)`). */
  hang(on: boolean): void {
    this.hanging = on;
  }

  /** Stop listening and drop every connection: clients see ECONNREFUSED. */
  async down(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }

  /** Listen again on the same port. */
  async up(): Promise<void> {
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    if (this.server?.listening) await this.down();
  }

  protected async listen(port: number): Promise<void> {
    const server = this.newServer();
    this.server = server;
    // The TCP socket under a TLS one too: destroying it drops either.
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.internalError(res, err);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (this.hanging) return; // the client's timeout must fire
    await this.respond(req, res, Buffer.concat(chunks));
  }
}
