/**
 * What the code serves, read from the code itself: the HTTP routes of the
 * daemon and of the injector, the CLI commands and options, the environment
 * variables. docs/api.md must name each (api-reference.test.ts); new ones
 * are found without editing this file.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { INJECTOR_VARIABLES } from '../../k8s-sidecar/config.js';
import { rawConfigObject } from '../../src/config/schema.js';
import { stubHttpApp } from '../support/stub-http-app.js';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(repoRoot, path), 'utf8');

/** `METHOD /path` of every route the daemon's HTTP app registers. */
export function daemonRoutes(): string[] {
  const app = stubHttpApp();
  return [...new Set(app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`))];
}

/** The paths the injector's HTTPS server answers (k8s-sidecar/server.ts compares the path to each). */
export function injectorPaths(): string[] {
  const source = read('k8s-sidecar/server.ts');
  return [...new Set([...source.matchAll(/path [!=]== '(\/[a-z/-]*)'/g)].map((m) => m[1]!))];
}

/**
 * `sidekey <command> [<subcommand>]` for every command line of the help
 * text in src/cli/main.ts (`tenant create <tenant> | tenant list [--json]`
 * names two), checked against the dispatch: every command the `switch`
 * and the early `if`s of runCli handle is in the help text.
 */
export function cliCommands(): { documented: string[]; dispatched: string[] } {
  const source = read('src/cli/main.ts');
  const help = /const HELP = `([\s\S]*?)`;/.exec(source)?.[1];
  if (help === undefined) throw new Error('no HELP text in src/cli/main.ts');
  const documented = new Set<string>();
  for (const line of help.split('\n')) {
    if (!/^ {2}[a-z]/.test(line)) continue;
    const usage = line.trim().split(/ {2,}/)[0]!;
    for (const part of usage.split(' | ')) {
      const words = /^([a-z][a-z-]*)(?: ([a-z][a-z-]*))?(?=$| )/.exec(part.trim());
      if (words !== null) documented.add(words[2] === undefined ? words[1]! : `${words[1]} ${words[2]}`);
    }
  }
  const runCli = source.slice(source.indexOf('export async function runCli'));
  const dispatched = new Set<string>();
  for (const m of runCli.matchAll(/case '([a-z][a-z-]*)':/g)) dispatched.add(m[1]!);
  for (const m of runCli.matchAll(
    /command === '([a-z][a-z-]*)' && args\.positionals\[0\] === '([a-z-]+)'/g,
  )) {
    dispatched.add(`${m[1]} ${m[2]}`);
  }
  return { documented: [...documented].sort(), dispatched: [...dispatched].sort() };
}

/** Every `--option` the argument parser accepts (src/cli/args.ts). */
export function cliOptions(): string[] {
  const source = read('src/cli/args.ts');
  const table = /const OPTIONS = \{([\s\S]*?)\} as const;/.exec(source)?.[1] ?? '';
  return [...table.matchAll(/^\s+'?([a-z][a-z-]*)'?: \{ type:/gm)].map((m) => `--${m[1]}`);
}

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(repoRoot, dir))) {
    const path = join(dir, name);
    if (statSync(join(repoRoot, path)).isDirectory()) out.push(...sources(path));
    else if (name.endsWith('.ts') && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/**
 * The configuration schema's variables, the injector's, every variable read
 * from an environment object in src/ and k8s-sidecar/ (`env.X`,
 * `env['X']`), and those the injector sets in application containers.
 */
export function environmentVariables(): string[] {
  const names = new Set<string>([...Object.keys(rawConfigObject.shape), ...INJECTOR_VARIABLES]);
  for (const file of [...sources('src'), ...sources('k8s-sidecar')]) {
    const text = read(file);
    for (const m of text.matchAll(/\benv\??\.([A-Z][A-Z0-9_]+)\b/g)) names.add(m[1]!);
    for (const m of text.matchAll(/\benv\[['"]([A-Z][A-Z0-9_]+)['"]\]/g)) names.add(m[1]!);
  }
  for (const m of read('k8s-sidecar/sidecar.ts').matchAll(/name: '([A-Z][A-Z0-9_]+)'/g)) names.add(m[1]!);
  return [...names].sort();
}
