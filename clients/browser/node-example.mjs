/**
 * End-to-end encrypted ingest from Node (docs/api.md): the "frontend" part
 * (sealing) and the "backend" part (forwarding) in one script, for trying it
 * out. In an application they run in different places; only the sealing
 * side ever has the value.
 *
 *   SIDEKEY_URL=http://127.0.0.1:7600 SIDEKEY_ORK="$(cat .sidekey/demo.ork)" \
 *     node clients/browser/node-example.mjs 'a value to protect'
 */
import { createSealer } from './sidekey-seal.js';

const url = process.env.SIDEKEY_URL ?? 'http://127.0.0.1:7600';
const headers = { 'content-type': 'application/json', 'x-sidekey-org-key': process.env.SIDEKEY_ORK ?? '' };
const tenant = process.env.TENANT ?? 'demo';
const field = process.env.FIELD ?? 'card';

async function call(path, body) {
  const r = await fetch(`${url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
  const answer = await r.json();
  if (!r.ok) throw new Error(`${path}: ${answer.error?.code} ${answer.error?.message}`);
  return answer;
}

// Backend: the public keys (nothing secret), handed to the frontend.
const { keys } = await call('/v1/ingest/keys', { tenant });

// Frontend: seal. The value exists only here.
const sealer = await createSealer(keys, { tenant });
const sealedValues = await sealer.seal(field, [process.argv[2] ?? '4111 1111 1111 1111']);

// Backend: forward the sealed strings, keep the tokens.
const { tokens } = await call('/v1/tokenize', { tenant, field, sealedValues });
console.log(JSON.stringify({ kem: sealer.kem, keyId: sealer.keyId, tokens }));

// Whoever may reveal (another ORK, another service) detokenizes as usual.
const { results } = await call('/v1/detokenize', { tenant, tokens });
console.log(JSON.stringify({ revealed: results.map((r) => r.value) }));
