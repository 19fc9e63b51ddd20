import { isIP } from 'node:net';

/**
 * A literal loopback address or `localhost`: 127.0.0.0/8, ::1 (also written
 * [::1] or as an IPv4-mapped ::ffff:127.x.y.z). Never a name that needs DNS.
 */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (h.toLowerCase() === 'localhost') return true;
  const family = isIP(h);
  if (family === 4) return h.split('.')[0] === '127';
  if (family === 6) {
    const lower = h.toLowerCase();
    if (lower === '::1' || lower === '0:0:0:0:0:0:0:1') return true;
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(lower);
    return mapped !== null && isLoopbackHost(mapped[1]!);
  }
  return false;
}
