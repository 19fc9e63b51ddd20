/** Minimal argument parsing over node:util parseArgs, shared by every command. */
import { parseArgs } from 'node:util';
import { usageError } from './io.js';

export interface Parsed {
  readonly positionals: string[];
  readonly values: Record<string, string | boolean | undefined>;
}

const OPTIONS = {
  json: { type: 'boolean' },
  yes: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  tenant: { type: 'string' },
  label: { type: 'string' },
  out: { type: 'string' },
  'sidecar-role': { type: 'string' },
  // key lifecycle (rotate, reencrypt, ork rotate, keys retire, tenant shred/purge)
  all: { type: 'boolean' },
  force: { type: 'boolean' },
  'if-older-than': { type: 'string' },
  'propagation-seconds': { type: 'string' },
  'ork-file': { type: 'string' },
  'from-file': { type: 'string' },
  'new-ork-file': { type: 'string' },
  'batch-size': { type: 'string' },
  'throttle-ms': { type: 'string' },
  below: { type: 'string' },
  // KEK rotation (rotate kek, ork reissue): a KEK reference, docs/kms.md
  to: { type: 'string' },
  // field policies (policy set/get/list/delete)
  field: { type: 'string' },
  kind: { type: 'string' },
  alphabet: { type: 'string' },
  'keep-prefix': { type: 'string' },
  'keep-suffix': { type: 'string' },
  mask: { type: 'string' },
  ttl: { type: 'string' },
  // ORK scopes (ork issue, ork scope)
  allow: { type: 'string' },
  reveal: { type: 'string' },
  // ingest keys (ingest-key rotate, issue 14)
  grace: { type: 'string' },
  // audit export / prune / verify --file (issue 19)
  until: { type: 'string' },
  file: { type: 'string' },
} as const;

export function parse(argv: readonly string[]): Parsed {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Parsed['values'], positionals };
  } catch (err) {
    // node:util explains some refusals on several lines; the CLI answers with one.
    throw usageError((err as Error).message.split('\n')[0]!);
  }
}

export function flag(args: Parsed, name: string): boolean {
  return args.values[name] === true;
}

export function option(args: Parsed, name: string): string | undefined {
  const v = args.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function required(args: Parsed, name: string, usage: string): string {
  const v = option(args, name);
  if (v === undefined || v === '') throw usageError(`--${name} is required: ${usage}`);
  return v;
}
