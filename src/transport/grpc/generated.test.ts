/**
 * The typed code under generated/ is what `npm run proto:gen` makes from the
 * contract today: regenerated into a temporary directory with the script's
 * own command line and compared byte for byte.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const committed = join(root, 'src/transport/grpc/generated');
const out = mkdtempSync(join(tmpdir(), 'sidekey-proto-gen-'));
after(() => rmSync(out, { recursive: true, force: true }));

function files(dir: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else found.set(relative(dir, p), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return found;
}

it('src/transport/grpc/generated is up to date with proto/ (run `npm run proto:gen`)', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    scripts: Record<string, string>;
  };
  const script = pkg.scripts['proto:gen'];
  assert.ok(script, 'the proto:gen script exists');
  const [bin, ...args] = script.split(/\s+/);
  const outDir = '--outDir=src/transport/grpc/generated';
  assert.ok(args.includes(outDir), `proto:gen writes with ${outDir}`);
  execFileSync(
    join(root, 'node_modules/.bin', bin!),
    args.map((a) => (a === outDir ? `--outDir=${out}` : a)),
    { cwd: root, stdio: 'pipe' },
  );
  const want = files(out);
  const have = files(committed);
  assert.deepEqual([...have.keys()].sort(), [...want.keys()].sort(), 'the same files');
  for (const [name, text] of want) {
    assert.ok(have.get(name) === text, `${name} is stale: run npm run proto:gen`);
  }
});
