import { readFileSync } from 'node:fs';
import type { ZodErrorMap } from 'zod/v3';
import { type Config, rawConfigSchema, toConfig } from './schema.js';

/** A configuration that cannot be used; its message is one line naming the setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Names whose values are secrets: redacted by `config print`. */
export const SECRET_SETTINGS = new Set(['VAULT_TOKEN']);

/**
 * Reads the optional JSON config file (SIDEKEY_CONFIG_FILE: an object whose
 * keys are the same variable names) under the environment, which wins.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Config {
  const merged: Record<string, unknown> = {};
  const file = env.SIDEKEY_CONFIG_FILE;
  if (file !== undefined && file !== '') {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new ConfigError(`SIDEKEY_CONFIG_FILE: cannot read ${file} (${code})`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Not the parser's message: it quotes the text around the error, which can be a secret
      // (an unquoted VAULT_TOKEN) and can hold line breaks.
      throw new ConfigError(`SIDEKEY_CONFIG_FILE: ${file} is not valid JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new ConfigError('SIDEKEY_CONFIG_FILE: must hold a JSON object of setting names to values');
    }
    for (const [k, v] of Object.entries(parsed)) merged[k] = typeof v === 'string' ? v : JSON.stringify(v);
  }
  for (const [k, v] of Object.entries(env)) {
    if ((k.startsWith('SIDEKEY_') || k.startsWith('AWS_') || k.startsWith('VAULT_')) && v !== undefined)
      merged[k] = v;
  }
  const result = rawConfigSchema.safeParse(merged, { errorMap: configErrorMap });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const name = String(issue.path[0] ?? 'configuration');
    const given = merged[name];
    const shown = given === undefined || SECRET_SETTINGS.has(name) ? '' : ` (got ${JSON.stringify(given)})`;
    throw new ConfigError(`${name}: ${issue.message}${shown}`);
  }
  return toConfig(result.data, cwd);
}

/** The effective configuration with secrets redacted, for `sidekey config print`. */
export function redactedConfig(config: Config): unknown {
  return JSON.parse(
    JSON.stringify(config, (key, value) =>
      key === 'token' && typeof value === 'string' ? '[redacted]' : value,
    ),
  );
}

/**
 * zod's default messages, but an invalid choice lists the choices and never
 * repeats the value given (it may hold a newline; the caller shows it quoted).
 */
const configErrorMap: ZodErrorMap = (issue, ctx) =>
  issue.code === 'invalid_enum_value'
    ? { message: `must be one of ${issue.options.map((o) => JSON.stringify(o)).join(', ')}` }
    : { message: ctx.defaultError };
