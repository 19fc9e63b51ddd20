/**
 * `sidekey <command>` (API.md "Command line"). Output meant for scripts goes
 * to stdout, notes to stderr; exit 0 on success, non-zero with a one-line
 * reason otherwise (2 for usage errors).
 */
import { ConfigError } from '../config/index.js';
import { SidekeyError } from '../errors/index.js';
import { packageVersion } from '../observability/version.js';
import { DataDirLockedError, SchemaError, StoreConfigError, StoreUnavailableError } from '../store/index.js';
import { SocketInUseError } from '../transport/grpc/index.js';
import { parse } from './args.js';
import { CliError, type CliIo } from './io.js';

const HELP = `sidekey — key management and tokenization sidecar

usage: sidekey [command] [options]

  serve                                    run the daemon (default)
  migrate [--sidecar-role NAME]            create or upgrade the schema
  tenant create <tenant> | tenant list [--json]
  ork issue --tenant T [--label L] [--allow OPS] [--reveal full|masked|none]
                                           print a new ORK, once; OPS: a comma list of tokenize,
                                           detokenize,encrypt,decrypt,delete,forget (default all)
  ork list --tenant T [--json]
  ork revoke --tenant T <ork-id>
  ork scope --tenant T <ork-id> [--allow OPS] [--reveal full|masked|none]
                                           change what an ORK may do (every sidecar within seconds)
  ork rotate --tenant T --from-file OLD --new-ork-file NEW
                                           issue a new ORK and move OLD's records to it (resumable)
  rotate tek --tenant T | --all [--if-older-than 90d] [--propagation-seconds N]
                                           add a TEK version and make it primary (fleet-safe)
  reencrypt --tenant T --ork-file F [--batch-size N] [--throttle-ms N]
                                           move F's records to the primary TEK version (resumable);
                                           needs the ORK: sidekey alone cannot decrypt
  rotate kek --to REF                      re-wrap every TEK (and audit chain key) under KEK REF (resumable)
  ork reissue --tenant T --ork-file OLD [--to REF]
                                           the same ORK in a string wrapped by the primary KEK (or REF)
  keys status [--tenant T] [--json]        key versions and record counts
  keys retire --tenant T --below N [--force]
                                           stop decrypting with versions below N
  subject forget --tenant T [--from-file F] [--json] SUBJECT…
                                           destroy data subjects' keys: their values are gone for good
                                           (every sidecar within seconds; idempotent)
  ingest-key rotate --tenant T [--grace 7d]
                                           new ingest key pairs (sealed values); the previous ones
                                           open for the grace period, then are destroyed
  ingest-key purge [--tenant T]            destroy now the ingest key pairs past their grace
  tenant shred <tenant> [--yes]            destroy every TEK version: the tenant's data is gone for good
  tenant purge <tenant> [--yes]            delete the token rows of a shredded tenant
  policy set --tenant T --field F [--kind random|deterministic|fpe] [--alphabet digits|alnum|CHARS]
             [--keep-prefix N] [--keep-suffix N] [--mask last4|first6last4|email|redact] [--ttl 90d|none]
                                           the token kind (and mask, TTL) of a field's new tokens
  tokens purge-expired [--tenant T] [--batch-size N] [--json]
                                           delete expired token records (resumable)
  policy get --tenant T --field F [--json] | policy list --tenant T [--json] | policy delete --tenant T --field F
  audit verify [--json]                    check every audit chain (a pruned one from its anchor)
  audit verify --file FILE [--json]        check an export on its own (KMS only, no database)
  audit export --until TIME|30d --out FILE[.gz]
                                           write the events before the cut, with what verifies them
  audit prune --until TIME|30d [--yes] [--force]
                                           remove exported events before the cut (resumable)
  audit partitions [--json]                create the coming days' audit partitions; list them
  fleet status [--json]                    every sidecar seen lately: version, last seen, changes applied
  doctor [--json]                          check what serving needs and say what to fix (non-zero on a problem)
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
    io.stdout(`${packageVersion()}\n`);
    return 0;
  }
  const args = parse(rest);
  if (args.values.help === true) {
    io.stdout(HELP);
    return 0;
  }
  // KEK rotation: its own module, so `rotate tek` and `ork issue` stay as they are.
  if (command === 'rotate' && args.positionals[0] === 'kek')
    return (await import('./commands/kek.js')).rotateKekCommand(args, io);
  if (command === 'ork' && args.positionals[0] === 'reissue')
    return (await import('./commands/kek.js')).orkReissueCommand(args, io);
  // Commands load only what they use (the injector does not load the daemon).
  switch (command) {
    case 'serve':
      return (await import('./commands/serve.js')).serveCommand(io);
    case 'migrate':
      return (await import('./commands/ops.js')).migrateCommand(args, io);
    case 'tenant':
      return (await import('./commands/tenant.js')).tenantCommand(args, io);
    case 'ork':
      return (await import('./commands/ork.js')).orkCommand(args, io);
    case 'keys':
      return (await import('./commands/ops.js')).keysCommand(args, io);
    case 'rotate':
      return (await import('./commands/rotate.js')).rotateCommand(args, io);
    case 'policy':
      return (await import('./commands/policy.js')).policyCommand(args, io);
    case 'tokens':
      return (await import('./commands/tokens.js')).tokensCommand(args, io);
    case 'reencrypt':
      return (await import('./commands/reencrypt.js')).reencryptCommand(args, io);
    case 'audit':
      return (await import('./commands/audit.js')).auditCommand(args, io);
    case 'config':
      return (await import('./commands/ops.js')).configCommand(args, io);
    case 'certs':
      return (await import('./commands/ops.js')).certsCommand(args, io);
    case 'injector':
      return (await import('./commands/injector.js')).injectorCommand(io);
    case 'fleet':
      return (await import('./commands/fleet.js')).fleetCommand(args, io);
    case 'subject':
      return (await import('./commands/subject.js')).subjectCommand(args, io);
    case 'doctor':
      return (await import('./commands/doctor.js')).doctorCommand(args, io);
    case 'ingest-key':
      return (await import('./commands/ingest-key.js')).ingestKeyCommand(args, io);
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
    err instanceof SidekeyError ||
    err instanceof SocketInUseError
  ) {
    return { line: err.message, code: 1 };
  }
  if (err instanceof Error) return { line: `${err.name}: ${err.message}`, code: 1 };
  return { line: 'failed', code: 1 };
}

/** One line from the terminal (stdin), the question on stderr. */
async function askOnTerminal(question: string): Promise<string> {
  const { createInterface } = await import('node:readline/promises');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

const isMain = process.argv[1] !== undefined && /(sidekey(\.js)?|main\.(ts|js))$/.test(process.argv[1]);
if (isMain) {
  const io: CliIo = {
    env: process.env,
    cwd: process.cwd(),
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    terminal: process.stderr.isTTY === true,
    ...(process.stdin.isTTY === true && process.stderr.isTTY === true && { prompt: askOnTerminal }),
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
