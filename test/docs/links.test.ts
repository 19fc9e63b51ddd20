/**
 * Nothing in the repository links outside it: every link of every Markdown
 * file (tracked, or new and not ignored) is a web URL, an anchor, or a
 * relative path to a file or folder inside the repository that exists.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { it } from 'node:test';
import { repoRoot } from './code-surface.js';

/** Link targets of Markdown text, leaving out code blocks and code spans. */
export function linkTargets(markdown: string): string[] {
  const prose = markdown.replace(/^(```|~~~)[\s\S]*?^\1/gm, '').replace(/`[^`\n]*`/g, '');
  const targets: string[] = [];
  for (const m of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) targets.push(m[1]!);
  for (const m of prose.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)) targets.push(m[1]!);
  for (const m of prose.matchAll(/\b(?:href|src)="([^"]+)"/g)) targets.push(m[1]!);
  return targets;
}

/** Why a link from `file` (relative to the repository) leaves it or is dead; undefined when fine. */
export function problemOf(file: string, target: string, root: string): string | undefined {
  if (/^(https?:|mailto:)/i.test(target) || target.startsWith('#')) return undefined;
  if (/^[a-z][a-z0-9+.-]*:/i.test(target)) return 'not a relative link';
  const path = decodeURIComponent(target.split('#')[0]!.split('?')[0]!);
  if (isAbsolute(path)) return 'an absolute path';
  const resolved = resolve(root, dirname(file), path);
  const inside = relative(root, resolved);
  if (inside.startsWith('..') || isAbsolute(inside)) return 'leaves the repository';
  if (!existsSync(resolved)) return 'does not exist';
  return undefined;
}

it('flags links that leave the repository or lead nowhere', () => {
  assert.deepEqual(linkTargets('see [API](../shared/API.md) and `[x](no)`\n```\n[y](no)\n```\n[r]: ./a.md'), [
    '../shared/API.md',
    './a.md',
  ]);
  assert.equal(problemOf('README.md', '../shared/API.md', repoRoot), 'leaves the repository');
  assert.equal(problemOf('docs/api.md', '../../x.md', repoRoot), 'leaves the repository');
  assert.equal(problemOf('README.md', '/etc/passwd', repoRoot), 'an absolute path');
  assert.equal(problemOf('README.md', 'file:///etc/passwd', repoRoot), 'not a relative link');
  assert.equal(problemOf('README.md', 'docs/nope.md', repoRoot), 'does not exist');
  assert.equal(problemOf('docs/api.md', '../README.md#sidekey', repoRoot), undefined);
  assert.equal(problemOf('docs/api.md', 'https://example.org/x', repoRoot), undefined);
});

it('no Markdown file of the repository links outside it', () => {
  const files = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
    cwd: repoRoot,
    encoding: 'utf8',
  })
    .split('\n')
    .filter((f) => f !== '' && existsSync(join(repoRoot, f)));
  assert.ok(files.includes('README.md') && files.includes('docs/api.md'));
  const problems: string[] = [];
  for (const file of files) {
    for (const target of linkTargets(readFileSync(join(repoRoot, file), 'utf8'))) {
      const problem = problemOf(file, target, repoRoot);
      if (problem !== undefined) problems.push(`${file}: ${target} ${problem}`);
    }
  }
  assert.deepEqual(problems, []);
});
