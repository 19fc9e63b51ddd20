/**
 * `sidekey <command>` (API.md "Command line"). Output meant for scripts goes
 * to stdout, notes to stderr; exit 0 on success, non-zero with a one-line
 * reason otherwise (2 for usage errors).
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../config/index.js';
import { SidekeyError } from '../errors/index.js';
import { DataDirLockedError, SchemaError, StoreConfigError, StoreUnavailableError } from '../store/index.js';
import { parse } from './args.js';
import { auditCommand, certsCommand, configCommand, keysCommand, migrateCommand } from './commands/ops.js';
import { orkCommand } from './commands/ork.js';
import { serveCommand } from './commands/serve.js';
import { tenantCommand } from './commands/tenant.js';
import { CliError, type CliIo } from './io.js';

const HELP = `sidekey — key management and tokenization sidecar

usage: sidekey [command] [options]

  serve                                    run the daemon (default)
  migrate [--sidecar-role NAME]            create or upgrade the schema
  tenant create <tenant> | tenant list [--json]
  ork issue --tenant T [--label L]         print a new ORK, once
  ork list --tenant T [--json]
  ork revoke --tenant T <ork-id>
  keys status [--tenant T] [--json]        key versions and record counts
  audit verify [--json]                    check every audit chain
  certs dev --out DIR                      development CA and certificates for Postgres mTLS
  config print                             effective configuration, secrets redacted
  injector                                 the Kubernetes mutating admission webhook

Configuration: SIDEKEY_* environment variables (see README.md), or SIDEKEY_CONFIG_FILE.
`;

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(HELP);
    return 0;
  }
  if (command === '--version' || command === 'version') {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    io.stdout(`${pkg.version}\n`);
    return 0;
  }
  const args = parse(rest);
  if (args.values.help === true) {
    io.stdout(HELP);
    return 0;
  }
  switch (command) {
    case 'serve':
      return serveCommand(io);
    case 'migrate':
      return migrateCommand(args, io);
    case 'tenant':
      return tenantCommand(args, io);
    case 'ork':
      return orkCommand(args, io);
    case 'keys':
      return keysCommand(args, io);
    case 'audit':
      return auditCommand(args, io);
    case 'config':
      return configCommand(args, io);
    case 'certs':
      return certsCommand(args, io);
    case 'injector': {
      const { injectorCommand } = await import('./commands/injector.js');
      return injectorCommand(io);
    }
    default:
      throw new CliError(`unknown command ${JSON.stringify(command)}; see sidekey --help`, 2);
  }
}

/** One line for the operator; never a stack trace, never a secret. */
export function describeFailure(err: unknown): { line: string; code: number } {
  if (err instanceof CliError) return { line: err.message, code: err.exitCode };
  if (err instanceof ConfigError) return { line: `invalid configuration: ${err.message}`, code: 2 };
  if (
    err instanceof DataDirLockedError ||
    err instanceof SchemaError ||
    err instanceof StoreConfigError ||
    err instanceof StoreUnavailableError ||
    err instanceof SidekeyError
  ) {
    return { line: err.message, code: 1 };
  }
  if (err instanceof Error) return { line: `${err.name}: ${err.message}`, code: 1 };
  return { line: 'failed', code: 1 };
}

const isMain = process.argv[1] !== undefined && /(sidekey(\.js)?|main\.(ts|js))$/.test(process.argv[1]);
if (isMain) {
  const io: CliIo = {
    env: process.env,
    cwd: process.cwd(),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
  };
  runCli(process.argv.slice(2), io).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      const { line, code } = describeFailure(err);
      process.stderr.write(`sidekey: ${line}\n`);
      process.exitCode = code;
    },
  );
}
