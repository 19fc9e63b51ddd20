/**
 * `--until` of `audit export` and `audit prune`: an RFC 3339 time or an age
 * (`30d`, `12h`, `45m`, `90s`: that long before now). Pure.
 */
import { parseDuration } from '../lifecycle/tek-rotation.js';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/** The cut as a time, or a one-line reason it is not one. */
export function parseCut(text: string, now: Date): { until: Date } | { error: string } {
  const shown = JSON.stringify(text.slice(0, 64));
  const ms = parseDuration(text);
  let until: Date;
  if (ms !== undefined) until = new Date(now.getTime() - ms);
  else if (RFC3339.test(text)) until = new Date(text.replace(' ', 'T'));
  else return { error: `--until ${shown} is neither an RFC 3339 time nor an age like 30d` };
  if (Number.isNaN(until.getTime())) return { error: `--until ${shown} is not a valid time` };
  if (until.getTime() > now.getTime()) return { error: `--until ${shown} is in the future` };
  return { until };
}
