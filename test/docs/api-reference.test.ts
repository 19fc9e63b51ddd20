/**
 * docs/api.md names everything the code serves: a route, a CLI command or
 * option, an environment variable added to the code without a line in the
 * reference fails here. The lists come from the code (code-surface.ts).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  cliCommands,
  cliOptions,
  daemonRoutes,
  environmentVariables,
  injectorPaths,
  repoRoot,
} from './code-surface.js';

const reference = readFileSync(join(repoRoot, 'docs/api.md'), 'utf8');
const missing = (names: string[], form: (n: string) => string) =>
  names.filter((n) => !reference.includes(form(n)));

describe('docs/api.md covers the code', () => {
  it('every HTTP route of the daemon, as a section `### METHOD /path`', () => {
    const routes = daemonRoutes();
    assert.ok(routes.includes('POST /v1/tokens/delete') && routes.includes('GET /openapi.json'));
    assert.deepEqual(
      missing(routes, (r) => `### ${r}`),
      [],
    );
  });

  it("every path of the injector's server", () => {
    const paths = injectorPaths();
    assert.ok(paths.includes('/mutate'));
    assert.deepEqual(
      missing(paths, (p) => ` ${p}`),
      [],
    );
  });

  it('every command of the CLI, as a section `### sidekey <command>`', () => {
    const { documented, dispatched } = cliCommands();
    assert.ok(
      documented.includes('tenant purge') && documented.includes('ork reissue'),
      'the help text parses',
    );
    const helpFirstWords = new Set(documented.map((c) => c.split(' ')[0]));
    assert.deepEqual(
      dispatched.filter((c) => !helpFirstWords.has(c.split(' ')[0]) && !documented.includes(c)),
      [],
      'every command runCli dispatches is in the help text',
    );
    const commands = [...new Set([...documented, ...dispatched])];
    assert.deepEqual(
      commands.filter((c) => !new RegExp(`^### sidekey ${c}\\b`, 'm').test(reference)),
      [],
    );
  });

  it('every option of the CLI', () => {
    const options = cliOptions();
    assert.ok(options.includes('--new-ork-file'), 'the option table parses');
    assert.deepEqual(
      missing(options, (o) => o),
      [],
    );
  });

  it('every environment variable the code reads or sets', () => {
    const names = environmentVariables();
    for (const known of [
      'SIDEKEY_WRITER_MAX_ROWS',
      'SIDEKEY_CONFIG_FILE',
      'SIDEKEY_INJECTOR_MODE',
      'SIDEKEY_URL',
    ]) {
      assert.ok(names.includes(known), `${known} is found in the code`);
    }
    assert.deepEqual(
      missing(names, (n) => `\`${n}\``),
      [],
    );
  });
});
