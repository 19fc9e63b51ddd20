/**
 * Offline validation of Kubernetes objects against the Kubernetes OpenAPI
 * schema (and cert-manager's CRD schemas), as the API server would check
 * them, plus what `kubectl --validate=strict` adds: no unknown fields.
 *
 * The schemas come precompiled (ajv) in kubernetes-models and
 * @kubernetes-models/cert-manager. The OpenAPI schema does not forbid unknown
 * fields, so a typo such as `readOnlyRootFilesytem` would pass it; to catch
 * those, the object is validated through a Proxy that records which
 * properties the validator looks at. A validator reads every property its
 * schema declares (and every key of a map), so a key it never read is a field
 * the schema does not know.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface AjvError {
  readonly instancePath: string;
  readonly keyword: string;
  readonly params: Record<string, unknown>;
}
type CompiledValidate = ((data: unknown) => boolean) & { errors?: AjvError[] | null };

/** Where the model classes of each API group live. */
function modelModule(apiVersion: string, kind: string): string {
  if (apiVersion.endsWith('cert-manager.io/v1'))
    return `@kubernetes-models/cert-manager/${apiVersion}/${kind}`;
  return `kubernetes-models/${apiVersion}/${kind}`;
}

const validators = new Map<string, CompiledValidate>();

async function validatorFor(apiVersion: string, kind: string): Promise<CompiledValidate> {
  const key = `${apiVersion}/${kind}`;
  const known = validators.get(key);
  if (known !== undefined) return known;
  let modelUrl: string;
  try {
    modelUrl = import.meta.resolve(modelModule(apiVersion, kind));
  } catch {
    throw new Error(`no schema for ${apiVersion} ${kind}`);
  }
  // The model module imports its compiled schema; take that one directly.
  const source = readFileSync(fileURLToPath(modelUrl), 'utf8');
  const schemaName = /_schemas\/(\w+)\.js/.exec(source)?.[1];
  if (schemaName === undefined) throw new Error(`no compiled schema referenced by ${modelUrl}`);
  const schemaUrl = new URL(
    `${'../'.repeat(apiVersion.split('/').length)}_schemas/${schemaName}.js`,
    modelUrl,
  );
  const mod = (await import(schemaUrl.href)) as { validate: CompiledValidate };
  validators.set(key, mod.validate);
  return mod.validate;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A deep read-only view of `root` that records, per object, the keys read through it. */
function recordingView(root: unknown, seen: WeakMap<object, Set<PropertyKey>>): unknown {
  const views = new WeakMap<object, object>();
  const wrap = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    const existing = views.get(value);
    if (existing !== undefined) return existing;
    const keys = new Set<PropertyKey>();
    seen.set(value, keys);
    const view = new Proxy(value, {
      get(target, prop, receiver) {
        keys.add(prop);
        return wrap(Reflect.get(target, prop, receiver));
      },
      has(target, prop) {
        keys.add(prop);
        return Reflect.has(target, prop);
      },
      getOwnPropertyDescriptor(target, prop) {
        keys.add(prop);
        return Reflect.getOwnPropertyDescriptor(target, prop);
      },
      set() {
        throw new Error('the validator must not modify the object');
      },
    });
    views.set(value, view);
    return view;
  };
  return wrap(root);
}

function unknownFields(
  value: unknown,
  seen: WeakMap<object, Set<PropertyKey>>,
  path: string,
  out: string[],
): void {
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      unknownFields(item, seen, `${path}/${i}`, out);
    });
    return;
  }
  if (!isPlainObject(value)) return;
  const read = seen.get(value);
  for (const [key, child] of Object.entries(value)) {
    if (read === undefined || !read.has(key)) out.push(`${path}/${key}: unknown field`);
    else unknownFields(child, seen, `${path}/${key}`, out);
  }
}

/** The problems of one object; empty when it is valid. */
export async function schemaProblems(object: unknown): Promise<string[]> {
  if (!isPlainObject(object) || typeof object.apiVersion !== 'string' || typeof object.kind !== 'string') {
    return ['not a Kubernetes object (apiVersion and kind are required)'];
  }
  const validate = await validatorFor(object.apiVersion, object.kind);
  const seen = new WeakMap<object, Set<PropertyKey>>();
  const valid = validate(recordingView(object, seen));
  if (!valid) {
    return (validate.errors ?? []).map(
      (e) => `${e.instancePath === '' ? '/' : e.instancePath}: ${e.keyword} ${JSON.stringify(e.params)}`,
    );
  }
  const unknown: string[] = [];
  unknownFields(object, seen, '', unknown);
  return unknown;
}

/** Throws, listing every problem, unless `object` is a valid Kubernetes object. */
export async function assertValidObject(object: unknown, label = 'object'): Promise<void> {
  const problems = await schemaProblems(object);
  if (problems.length > 0)
    throw new Error(`${label} is not a valid Kubernetes object:\n  ${problems.join('\n  ')}`);
}
