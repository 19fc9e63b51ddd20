/**
 * `npm run sbom` (CycloneDX, @cyclonedx/cyclonedx-npm): the bill of materials
 * of what the image ships. Its components are exactly the production
 * dependencies of package-lock.json — every one of them, and no dev-only
 * package (TypeScript, the test tools).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { productionPackages, REPO } from './production-deps.js';

const dir = mkdtempSync(join(tmpdir(), 'sidekey-sbom-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Component {
  readonly name: string;
  readonly group?: string;
  readonly version: string;
  readonly purl?: string;
  readonly components?: Component[];
}

function flatten(cs: readonly Component[] = []): Component[] {
  return cs.flatMap((c) => [c, ...flatten(c.components)]);
}

describe('npm run sbom', () => {
  it('writes a CycloneDX 1.6 SBOM of exactly the production dependencies', () => {
    const file = join(dir, 'sidekey.cdx.json');
    execFileSync('npm', ['run', '--silent', 'sbom', '--', '--output-file', file], {
      cwd: REPO,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 120_000,
    });
    const bom = JSON.parse(readFileSync(file, 'utf8')) as {
      bomFormat: string;
      specVersion: string;
      metadata: { component: { name: string } };
      components: Component[];
    };
    assert.equal(bom.bomFormat, 'CycloneDX');
    assert.equal(bom.specVersion, '1.6');
    assert.equal(bom.metadata.component.name, 'sidekey');
    const inBom = new Set(
      flatten(bom.components).map((c) => `${c.group ? `${c.group}/` : ''}${c.name}@${c.version}`),
    );
    const expected = new Set(
      productionPackages()
        .filter((p) => p.manifest !== undefined)
        .map((p) => `${p.name}@${p.version}`),
    );
    assert.deepEqual(
      [...expected].filter((p) => !inBom.has(p)),
      [],
      'production packages missing from the SBOM',
    );
    assert.deepEqual(
      [...inBom].filter((p) => !expected.has(p)),
      [],
      'packages in the SBOM that are not shipped',
    );
    for (const devOnly of ['typescript', 'fast-check', '@biomejs/biome', 'tsx'])
      assert.ok(![...inBom].some((p) => p.startsWith(`${devOnly}@`)), `${devOnly} is dev-only`);
  });
});
