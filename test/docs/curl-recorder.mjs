// Stands in for `curl` on the PATH of the documentation examples
// (examples.test.ts): fills the placeholders `tok_…` / `ct_…` of a request
// with the tokens / ciphertexts of the previous answer, runs the real curl
// (EXAMPLES_REAL_CURL) with the response headers dumped, writes its output
// through unchanged, and records the status and body of each call in
// EXAMPLES_STATE/calls.jsonl.
import { spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const state = process.env.EXAMPLES_STATE;
const remembered = join(state, 'remembered.json');
const last = existsSync(remembered) ? JSON.parse(readFileSync(remembered, 'utf8')) : { tokens: [], cts: [] };
let t = 0;
let c = 0;
const args = process.argv.slice(2).map((a) =>
  a
    .replaceAll('tok_…', () => last.tokens[t++] ?? 'tok_…')
    .replace(/ct_[A-Za-z0-9_-]*…/g, () => last.cts[c++] ?? 'ct_…')
    // An fpe token has the value's shape: the docs write it with `…` for
    // the characters that differ from run to run ("4111-11…-…-1111").
    .replace(/"([^"\\]*…[^"\\]*)"/g, (whole) =>
      t < last.tokens.length ? JSON.stringify(last.tokens[t++]) : whole,
    ),
);
const headers = join(state, 'headers');
const run = spawnSync(process.env.EXAMPLES_REAL_CURL, ['-D', headers, ...args], {
  stdio: ['inherit', 'pipe', 'inherit'],
});
const body = run.stdout.toString('utf8');
process.stdout.write(run.stdout);
const statusLine = existsSync(headers) ? readFileSync(headers, 'utf8').split('\r\n')[0] : '';
const status = Number(/^HTTP\/[\d.]+ (\d{3})/.exec(statusLine)?.[1] ?? 0);
appendFileSync(join(state, 'calls.jsonl'), `${JSON.stringify({ status, body })}\n`);
try {
  const answer = JSON.parse(body);
  if (Array.isArray(answer.tokens)) last.tokens = answer.tokens;
  if (Array.isArray(answer.ciphertexts)) last.cts = answer.ciphertexts;
  writeFileSync(remembered, JSON.stringify(last));
} catch {
  // not JSON: nothing to remember
}
process.exit(run.status ?? 1);
