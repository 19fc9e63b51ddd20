// Preloaded into a child `sidekey` (NODE_OPTIONS=--import=<this file's URL>) by
// test/startup/lazy-modules.test.ts: every module URL the child's ESM loader
// resolves is appended, one per line, to the file named by
// SIDEKEY_TEST_MODULE_LOG. Test-only; nothing in src/ knows of it.
import { register } from 'node:module';

const file = process.env.SIDEKEY_TEST_MODULE_LOG;
if (file === undefined || file === '') throw new Error('module-log.mjs: SIDEKEY_TEST_MODULE_LOG is not set');
const hooks = `
import { appendFileSync } from 'node:fs';
const file = ${JSON.stringify(file)};
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(file, r.url + '\\n');
  return r;
}`;
register(`data:text/javascript,${encodeURIComponent(hooks)}`);
