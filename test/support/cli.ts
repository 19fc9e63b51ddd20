/** Runs the real CLI in-process (same code path as `sidekey …`), capturing its output. */
import { describeFailure, runCli } from '../../src/cli/main.js';

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function sidekey(args: string[], env: Record<string, string>): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io = {
    env: { SIDEKEY_LOG_LEVEL: 'warn', ...env },
    cwd: process.cwd(),
    stdout: (t: string) => {
      stdout += t;
    },
    stderr: (t: string) => {
      stderr += t;
    },
  };
  try {
    const code = await runCli(args, io);
    return { code, stdout, stderr };
  } catch (err) {
    const { line, code } = describeFailure(err);
    return { code, stdout, stderr: `${stderr}sidekey: ${line}\n` };
  }
}
