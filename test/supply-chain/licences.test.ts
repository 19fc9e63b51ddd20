/**
 * The licence inventory of the production dependencies (what the image
 * ships), read from each installed package.json and checked against an
 * allow-list of permissive licences (docs/supply-chain.md). A new dependency
 * under another licence fails here until someone has looked at it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { productionPackages } from './production-deps.js';

/** SPDX ids sidekey may ship (Apache-2.0 itself): permissive, no copyleft. */
export const ALLOWED_LICENCES = new Set([
  'Apache-2.0',
  'MIT',
  'ISC',
  'BSD-2-Clause',
  'BSD-3-Clause',
  '0BSD',
  'BlueOak-1.0.0',
  'CC0-1.0',
  'Unlicense',
  'Public Domain',
]);

/** Whether a licence declaration allows shipping: an SPDX expression (OR: one allowed; AND: all), or the legacy `licenses` array (any). */
export function allowed(declared: unknown): boolean {
  if (typeof declared === 'string') {
    const expr = declared.trim().replace(/^\((.*)\)$/, '$1');
    if (/ OR /.test(expr)) return expr.split(/ OR /).some((part) => allowed(part));
    if (/ AND /.test(expr)) return expr.split(/ AND /).every((part) => allowed(part));
    return ALLOWED_LICENCES.has(expr);
  }
  if (Array.isArray(declared)) return declared.some((l) => allowed((l as { type?: unknown })?.type));
  if (typeof declared === 'object' && declared !== null)
    return allowed((declared as { type?: unknown }).type);
  return false;
}

describe('licences of the production dependencies', () => {
  const packages = productionPackages();

  it('every production dependency is installed, with its package.json', () => {
    assert.ok(packages.length > 50, `${packages.length} production packages`);
    const missing = packages.filter((p) => p.manifest === undefined && !p.optional).map((p) => p.path);
    assert.deepEqual(missing, []);
  });

  it('every one is under an allowed licence', () => {
    const refused = packages
      .filter((p) => p.manifest !== undefined)
      .filter((p) => !allowed(p.manifest?.license ?? p.manifest?.licenses))
      .map(
        (p) =>
          `${p.name}@${p.version}: ${JSON.stringify(p.manifest?.license ?? p.manifest?.licenses ?? null)}`,
      );
    assert.deepEqual(refused, [], 'production dependencies under a licence not on the allow-list');
  });

  it('the check itself refuses copyleft, unknown and missing licences', () => {
    for (const bad of [
      'GPL-3.0-only',
      'AGPL-3.0',
      'SSPL-1.0',
      'MIT AND GPL-2.0',
      'UNLICENSED',
      '',
      undefined,
      null,
      [],
    ])
      assert.equal(allowed(bad), false, JSON.stringify(bad));
    for (const ok of ['MIT', '(BSD-3-Clause OR GPL-2.0)', 'MIT AND ISC', [{ type: 'MIT' }], { type: 'ISC' }])
      assert.equal(allowed(ok), true, JSON.stringify(ok));
  });
});
