/**
 * The client's types follow the proto: every RPC has a method, and every
 * field of each request and response message (and of the messages they
 * hold that the client declares) is a property of the type of that name in
 * src/types.ts, by its JSON name. A field added to the proto without the
 * client learning it fails here.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { it } from 'node:test';
import protobuf from 'protobufjs';

const source = readFileSync(new URL('../src/types.ts', import.meta.url), 'utf8');
const root = new protobuf.Root().loadSync(
  new URL('../../../proto/sidekey/v1/sidekey.proto', import.meta.url).pathname,
);
root.resolveAll();
const service = root.lookupService('sidekey.v1.Sidekey');

/** The text of `export interface Name {…}` or `export type Name = …;` in src/types.ts. */
function declaration(name: string): string | undefined {
  const m = new RegExp(`export (?:interface ${name} \\{[\\s\\S]*?\\n\\}|type ${name} =[\\s\\S]*?;\\n)`).exec(
    source,
  );
  return m?.[0];
}

it('has a method for every RPC', () => {
  const client = declaration('SidekeyClient') ?? '';
  for (const rpc of Object.keys(service.methods)) {
    const method = rpc.charAt(0).toLowerCase() + rpc.slice(1);
    assert.match(client, new RegExp(`\\b${method}\\(`), `SidekeyClient.${method}`);
  }
});

it('declares every field of the messages of every RPC, by its JSON name', () => {
  const seen = new Set<string>();
  const check = (type: protobuf.Type) => {
    if (seen.has(type.name)) return;
    seen.add(type.name);
    const text = declaration(type.name);
    if (text === undefined) return; // a message the client spells otherwise (Error: ItemError)
    for (const field of type.fieldsArray) {
      const json = protobuf.util.camelCase(field.name);
      assert.match(text, new RegExp(`readonly ${json}\\??:`), `${type.name}.${json}`);
      if (field.resolvedType instanceof protobuf.Type) check(field.resolvedType);
    }
  };
  for (const m of Object.values(service.methods)) {
    for (const name of [m.requestType, m.responseType]) {
      assert.ok(declaration(name) !== undefined, `src/types.ts declares ${name}`);
      check(root.lookupType(name));
    }
  }
  assert.ok(seen.has('DetokenizeResult') && seen.has('DecryptResult'));
});
