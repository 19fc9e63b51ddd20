/**
 * The loopback guard (API.md "Credentials"): DNS-rebinding and browser
 * defences, applied before anything else of a request is read.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The host part of a Host header when it is a literal loopback authority we
 * accept, with or without a numeric port; undefined otherwise.
 */
export function allowedHost(hostHeader: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (hostHeader === undefined || hostHeader === '') return false;
  let host: string;
  let rest: string;
  if (hostHeader.startsWith('[')) {
    const end = hostHeader.indexOf(']');
    if (end < 0) return false;
    host = hostHeader.slice(1, end).toLowerCase();
    rest = hostHeader.slice(end + 1);
  } else {
    const colon = hostHeader.indexOf(':');
    host = (colon < 0 ? hostHeader : hostHeader.slice(0, colon)).toLowerCase();
    rest = colon < 0 ? '' : hostHeader.slice(colon);
  }
  if (rest !== '' && !/^:\d{1,5}$/.test(rest)) return false;
  return allowed.has(host);
}

/** 127.0.0.1, ::1, localhost and the configured bind address (normalised, brackets removed). */
export function allowedHostSet(bindHost: string): Set<string> {
  const bind = bindHost.startsWith('[') ? bindHost.slice(1, -1) : bindHost;
  return new Set(['127.0.0.1', '::1', 'localhost', bind.toLowerCase()]);
}

/** Whether a request looks like it came from a browser page (refused: no browser is a client). */
export function fromBrowser(origin: string | undefined, secFetchSite: string | undefined): boolean {
  return origin !== undefined || secFetchSite?.toLowerCase() === 'cross-site';
}

/** Constant-time check of `Authorization: Bearer <token>` against the configured token. */
export function bearerMatches(header: string | undefined, expectedDigest: Buffer): boolean {
  if (header === undefined) return false;
  const m = /^Bearer (\S+)$/i.exec(header.trim());
  if (m === null) return false;
  const digest = createHash('sha256').update(m[1]!, 'utf8').digest();
  return timingSafeEqual(digest, expectedDigest);
}

export function tokenDigest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
