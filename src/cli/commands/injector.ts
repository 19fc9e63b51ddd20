import type { CliIo } from '../io.js';

/** `sidekey injector`: the Kubernetes mutating admission webhook (k8s-sidecar/). */
export async function injectorCommand(io: CliIo): Promise<number> {
  const { runInjector } = await import('../../../k8s-sidecar/index.js');
  const handle = await runInjector(io.env, (msg) => io.stderr(`${msg}\n`));
  return new Promise<number>((resolve) => {
    const stop = () => {
      handle.close().then(
        () => resolve(0),
        () => resolve(1),
      );
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
