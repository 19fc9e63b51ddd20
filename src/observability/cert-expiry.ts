/**
 * Certificate expiry as a metric: the not-after time of the first
 * certificate of a PEM file, read when Prometheus scrapes (so a renewed file
 * shows at once). Exported by the sidecar (its Postgres client certificate)
 * and by the injector (its serving certificate) under one name, so one alert
 * rule covers both (deploy/monitoring).
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

export const CERTIFICATE_EXPIRY_METRIC = 'sidekey_certificate_expiry_timestamp_seconds';

/** The not-after time of the first certificate in `pem`; undefined when there is none. */
export function certificateNotAfter(pem: string): Date | undefined {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  if (first === undefined) return undefined;
  try {
    return new Date(new X509Certificate(first).validTo);
  } catch {
    return undefined;
  }
}

export function certificateFileNotAfter(path: string): Date | undefined {
  try {
    return certificateNotAfter(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** One gauge series per named certificate file; an unreadable file reports no series. */
export function registerCertificateExpiry(registry: Registry, files: Readonly<Record<string, string>>): void {
  new Gauge({
    name: CERTIFICATE_EXPIRY_METRIC,
    help: 'Not-after time of a certificate sidekey uses (Unix seconds), by certificate.',
    labelNames: ['certificate'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [certificate, path] of Object.entries(files)) {
        const notAfter = certificateFileNotAfter(path);
        if (notAfter !== undefined) this.set({ certificate }, Math.floor(notAfter.getTime() / 1000));
      }
    },
  });
}
