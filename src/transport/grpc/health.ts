/**
 * The standard grpc.health.v1.Health service. Its statuses (for "" and for
 * sidekey.v1.Sidekey) follow readiness: SERVING while the KMS and the store
 * answer, NOT_SERVING otherwise and once shutdown begins. Watchers are told
 * of every change; on stop they get NOT_SERVING and their streams are ended,
 * so an open Watch does not hold up a graceful shutdown.
 */
import type { Server, ServerWritableStream } from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import type { Readiness } from '../../observability/index.js';
import { SIDEKEY_SERVICE } from './proto.js';

export const HEALTH_SERVICES = ['', SIDEKEY_SERVICE] as const;
export const DEFAULT_HEALTH_INTERVAL_MS = 2_000;

export class HealthTracker {
  readonly implementation = new HealthImplementation(
    Object.fromEntries(HEALTH_SERVICES.map((s) => [s, 'NOT_SERVING' as ServingStatus])),
  );
  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;
  private stopped = false;
  private current: ServingStatus = 'NOT_SERVING';
  private readonly watches = new Set<ServerWritableStream<unknown, unknown>>();

  constructor(
    private readonly readiness: () => Promise<Readiness>,
    private readonly intervalMs: number = DEFAULT_HEALTH_INTERVAL_MS,
  ) {}

  /** Adds the health service, with Watch streams tracked so that stop() can end them. */
  addToServer(server: Server): void {
    this.implementation.addToServer({
      addService: (definition, handlers) => {
        const watch = handlers.watch as (call: ServerWritableStream<unknown, unknown>) => void;
        server.addService(definition, {
          ...handlers,
          watch: (call: ServerWritableStream<unknown, unknown>) => {
            if (this.stopped) {
              call.end();
              return;
            }
            this.watches.add(call);
            call.on('cancelled', () => this.watches.delete(call));
            watch(call);
          },
        });
      },
    });
  }

  get status(): ServingStatus {
    return this.current;
  }

  /** One check now, then one every interval (never two at once). */
  async start(): Promise<void> {
    await this.check();
    if (this.stopped) return;
    this.timer = setInterval(() => void this.check(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.set('NOT_SERVING');
    for (const call of this.watches) call.end();
    this.watches.clear();
  }

  check(): Promise<void> {
    this.checking ??= (async () => {
      let ready = false;
      try {
        ready = (await this.readiness()).ready;
      } catch {
        ready = false;
      }
      if (!this.stopped) this.set(ready ? 'SERVING' : 'NOT_SERVING');
    })().finally(() => {
      this.checking = undefined;
    });
    return this.checking;
  }

  private set(status: ServingStatus): void {
    if (status === this.current) return;
    this.current = status;
    for (const s of HEALTH_SERVICES) this.implementation.setStatus(s, status);
  }
}
