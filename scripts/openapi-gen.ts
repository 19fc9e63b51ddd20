/**
 * `npm run openapi:gen`: writes docs/openapi.json, the document the daemon
 * serves at GET /openapi.json (a test fails when the file is stale).
 */
import { writeFileSync } from 'node:fs';
import { openApiDocument } from '../src/transport/http/openapi.js';

export const OPENAPI_FILE = new URL('../docs/openapi.json', import.meta.url);

export function renderOpenApi(): string {
  return `${JSON.stringify(openApiDocument(), null, 2)}\n`;
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))) {
  writeFileSync(OPENAPI_FILE, renderOpenApi());
  process.stdout.write(`wrote ${OPENAPI_FILE.pathname}\n`);
}
