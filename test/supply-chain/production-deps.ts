/**
 * The production dependencies as installed: every package of package-lock.json
 * that is not dev-only, with the package.json npm put in node_modules.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REPO = join(import.meta.dirname, '..', '..');

export interface InstalledPackage {
  /** The path in package-lock.json (`node_modules/a/node_modules/b`). */
  readonly path: string;
  readonly name: string;
  readonly version: string;
  readonly optional: boolean;
  /** package.json from node_modules, undefined when not installed (an optional package of another platform). */
  readonly manifest: Record<string, unknown> | undefined;
}

export function productionPackages(): InstalledPackage[] {
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string; dev?: boolean; optional?: boolean; name?: string }>;
  };
  const out: InstalledPackage[] = [];
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path === '' || entry.dev === true) continue;
    const file = join(REPO, path, 'package.json');
    const manifest = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>)
      : undefined;
    out.push({
      path,
      name: entry.name ?? path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length),
      version: entry.version ?? '',
      optional: entry.optional === true,
      manifest,
    });
  }
  return out;
}
