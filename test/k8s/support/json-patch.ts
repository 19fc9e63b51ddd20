/**
 * RFC 6902 JSON Patch, applied as the API server applies a webhook's patch:
 * every operation in order on a copy, failing the whole patch on the first
 * operation that does not apply. Test-only: the injector emits patches, it
 * never applies them.
 */

export interface Operation {
  readonly op: string;
  readonly path: string;
  readonly value?: unknown;
  readonly from?: string;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`invalid JSON Pointer ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function arrayIndex(token: string, length: number, forAdd: boolean): number {
  if (forAdd && token === '-') return length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new Error(`invalid array index ${JSON.stringify(token)}`);
  const i = Number(token);
  if (i > length || (!forAdd && i === length))
    throw new Error(`array index ${i} out of bounds (length ${length})`);
  return i;
}

function parentOf(doc: unknown, tokens: string[], pointer: string): unknown {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(token, node.length, false)];
    else if (typeof node === 'object' && node !== null && Object.hasOwn(node, token)) {
      node = (node as Record<string, unknown>)[token];
    } else throw new Error(`path ${pointer}: ${JSON.stringify(token)} does not exist`);
  }
  if (typeof node !== 'object' || node === null)
    throw new Error(`path ${pointer}: parent is not a container`);
  return node;
}

export function applyPatch<T>(document: T, patch: readonly Operation[]): T {
  let doc: unknown = structuredClone(document);
  for (const operation of patch) {
    const tokens = parsePointer(operation.path);
    const last = tokens[tokens.length - 1];
    if (
      operation.op !== 'add' &&
      operation.op !== 'replace' &&
      operation.op !== 'remove' &&
      operation.op !== 'test'
    ) {
      throw new Error(`unsupported op ${operation.op}`);
    }
    if (last === undefined) {
      if (operation.op === 'add' || operation.op === 'replace') doc = structuredClone(operation.value);
      else throw new Error(`op ${operation.op} on the whole document`);
      continue;
    }
    const parent = parentOf(doc, tokens, operation.path);
    if (Array.isArray(parent)) {
      const i = arrayIndex(last, parent.length, operation.op === 'add');
      if (operation.op === 'add') parent.splice(i, 0, structuredClone(operation.value));
      else if (operation.op === 'replace') parent[i] = structuredClone(operation.value);
      else if (operation.op === 'remove') parent.splice(i, 1);
      else if (JSON.stringify(parent[i]) !== JSON.stringify(operation.value))
        throw new Error(`test failed at ${operation.path}`);
    } else {
      const obj = parent as Record<string, unknown>;
      const exists = Object.hasOwn(obj, last);
      if (operation.op !== 'add' && !exists) throw new Error(`path ${operation.path} does not exist`);
      if (operation.op === 'add' || operation.op === 'replace') obj[last] = structuredClone(operation.value);
      else if (operation.op === 'remove') delete obj[last];
      else if (JSON.stringify(obj[last]) !== JSON.stringify(operation.value))
        throw new Error(`test failed at ${operation.path}`);
    }
  }
  return doc as T;
}
