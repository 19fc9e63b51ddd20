/**
 * Health checks of the injected container.
 *
 * sidekey listens on 127.0.0.1 only (DESIGN.md "Loopback only"), and the
 * kubelet sends httpGet, tcpSocket and grpc probes to the pod IP, so none of
 * those can reach it. The probes therefore run inside the container: `node`
 * (the image's own runtime, on its PATH) with a one-line script that asks
 * http://127.0.0.1:7600 with a loopback Host header, which the daemon's Host
 * guard accepts. No shell, curl or wget is needed in the image.
 */
import { HTTP_PORT } from './constants.js';

/** `node -e PROBE_SCRIPT <path> <port>`: exit 0 when GET <path> answers 200 within 2.5 s. */
export const PROBE_SCRIPT =
  'const [,p,port]=process.argv;' +
  "require('http').get({host:'127.0.0.1',port,path:p,timeout:2500},r=>{r.resume();process.exit(r.statusCode===200?0:1)})" +
  ".on('timeout',function(){this.destroy()}).on('error',()=>process.exit(1))";

/**
 * `node -e WAIT_SCRIPT <path> <port> <seconds>`: polls until GET <path>
 * answers 200 (exit 0) or the time is up (exit 1). Used as the classic-mode
 * postStart hook: the kubelet starts a pod's containers in order and waits for
 * each postStart hook, so the application containers listed after sidekey
 * start only once it is ready.
 */
export const WAIT_SCRIPT =
  "const [,p,port,s]=process.argv;const end=Date.now()+Number(s)*1000;const h=require('http');" +
  'function again(){if(Date.now()>end)process.exit(1);setTimeout(t,250)}' +
  "function t(){h.get({host:'127.0.0.1',port,path:p,timeout:1000},r=>{r.resume();if(r.statusCode===200)process.exit(0);again()})" +
  ".on('timeout',function(){this.destroy()}).on('error',again)}t()";

/** How long classic mode holds the application containers back waiting for sidekey. */
export const CLASSIC_WAIT_SECONDS = 120;

export function probeCommand(path: '/healthz' | '/readyz', port = HTTP_PORT): string[] {
  return ['node', '-e', PROBE_SCRIPT, path, String(port)];
}

export function waitCommand(path: '/readyz', seconds: number, port = HTTP_PORT): string[] {
  return ['node', '-e', WAIT_SCRIPT, path, String(port), String(seconds)];
}
