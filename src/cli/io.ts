/** What a command may touch of the outside world; tests pass their own. */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** stderr is a terminal: progress is drawn as a bar (otherwise JSON lines). */
  readonly terminal?: boolean;
  /** Asks a question on the terminal (only when stdin is one); destructive commands confirm with it. */
  readonly prompt?: (question: string) => Promise<string>;
}

/** A failure to report in one line and exit non-zero. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, 2);

export function table(rows: readonly object[], columns: readonly string[]): string {
  const cells = [columns, ...rows.map((r) => columns.map((c) => format((r as Record<string, unknown>)[c])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => String(row[i]).length)));
  return `${cells
    .map((row) =>
      row
        .map((v, i) => String(v).padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function format(v: unknown): string {
  if (v instanceof Date) return v.toISOString();
  if (v === null || v === undefined) return '-';
  return String(v);
}
