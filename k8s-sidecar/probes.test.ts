/**
 * The exec probe and postStart scripts, run with the real `node` against a
 * real loopback HTTP server that, like sidekey, refuses a non-loopback Host.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { probeCommand, waitCommand } from './probes.js';

let server: Server;
let port: number;
let readyAt = 0;
const hosts: string[] = [];

before(async () => {
  server = createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    if (!/^127\.0\.0\.1(:\d+)?$/.test(req.headers.host ?? '')) {
      res.writeHead(403).end();
      return;
    }
    if (req.url === '/healthz') res.writeHead(200).end('{"status":"ok"}');
    else if (req.url === '/readyz') res.writeHead(Date.now() >= readyAt ? 200 : 503).end();
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
after(() => server.close());

/** Runs the command as the kubelet would (argv, no shell), asynchronously so the server can answer. */
async function run(command: string[]): Promise<number> {
  const [file, ...args] = command;
  const child = spawn(file === 'node' ? process.execPath : file!, args, { stdio: 'ignore' });
  return new Promise((resolve) => child.on('exit', (code) => resolve(code ?? -1)));
}

describe('exec probes', () => {
  it('succeed on 200 and send a loopback Host header', async () => {
    readyAt = 0;
    assert.equal(await run(probeCommand('/healthz', port)), 0);
    assert.equal(await run(probeCommand('/readyz', port)), 0);
    assert.match(hosts.at(-1)!, /^127\.0\.0\.1:\d+$/);
  });

  it('fail on 503, and when nothing listens', async () => {
    readyAt = Date.now() + 60_000;
    assert.equal(await run(probeCommand('/readyz', port)), 1);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const freePort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    assert.equal(await run(probeCommand('/healthz', freePort)), 1);
  });

  it('the classic-mode postStart hook waits until ready, then succeeds', async () => {
    readyAt = Date.now() + 1200;
    const started = Date.now();
    assert.equal(await run(waitCommand('/readyz', 10, port)), 0);
    assert.ok(Date.now() - started >= 1000, 'it waited for readiness');
  });

  it('the postStart hook gives up after its time', async () => {
    readyAt = Date.now() + 60_000;
    assert.equal(await run(waitCommand('/readyz', 1, port)), 1);
  });
});
