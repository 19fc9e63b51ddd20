/**
 * Reads and validates the `sidekey.io/*` annotations of a pod. Every value is
 * checked; each problem becomes one message naming the annotation, so the
 * webhook can deny the pod with all of them at once instead of injecting
 * something broken. Pure: no I/O.
 */
import { ANNOTATION_PREFIX, ANNOTATIONS, SIDECAR_NAME, STATUS_INJECTED } from './constants.js';
import { parseQuantity, type Quantity } from './quantity.js';

export type InjectionMode = 'native' | 'classic';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Defaults of the sidecar's resources. Requests are what the scheduler
 * reserves on every node for every injected pod, so they are kept near what
 * the sidecar really uses (about 95 MiB resident once its modules are loaded,
 * a few millicores idle); no CPU limit by default (CFS throttling adds latency
 * to every call of the application); a memory limit so a leak cannot take the
 * node's memory. The reasoning is in docs/kubernetes.md.
 */
export const DEFAULT_RESOURCES = {
  cpuRequest: '25m',
  memoryRequest: '96Mi',
  memoryLimit: '192Mi',
  /** The embedded store (development only) runs PostgreSQL compiled to WebAssembly: far more memory. */
  embeddedMemoryLimit: '1Gi',
} as const;

/** Below this the Node.js runtime with sidekey's modules cannot start: the container would loop on OOM kills. */
export const MIN_MEMORY_LIMIT_BYTES = 64 * 2 ** 20;

export interface SidecarResources {
  readonly cpuRequest: Quantity;
  readonly cpuLimit: Quantity | undefined;
  readonly memoryRequest: Quantity;
  readonly memoryLimit: Quantity | undefined;
}

export interface PodOptions {
  readonly mode: InjectionMode;
  readonly initFirst: boolean;
  /** Containers (and, in native mode with init-first, init containers) given the env and socket mount; undefined: every container. */
  readonly containers: readonly string[] | undefined;
  /** Undefined: every tenant. */
  readonly tenants: readonly string[] | undefined;
  readonly postgresTlsSecret: string | undefined;
  readonly resources: SidecarResources;
  readonly logLevel: LogLevel | undefined;
  /** Run `sidekey doctor` as an init container first: the pod does not start while a check fails. */
  readonly doctor: boolean;
}

/**
 * Operator-wide resource defaults (the injector's SIDEKEY_INJECTOR_CPU_* and
 * SIDEKEY_INJECTOR_MEMORY_* settings), Kubernetes quantities already checked
 * with `quantityProblem`; unset ones fall back to DEFAULT_RESOURCES.
 */
export interface ResourceDefaults {
  readonly cpuRequest?: string;
  readonly cpuLimit?: string;
  readonly memoryRequest?: string;
  readonly memoryLimit?: string;
}

/** What the injector's configuration contributes to the reading of annotations. */
export interface AnnotationDefaults {
  readonly mode: InjectionMode;
  readonly postgres: boolean;
  readonly postgresTlsSecret: string | undefined;
  readonly resources?: ResourceDefaults;
}

/** Why `text` is not a usable CPU or memory quantity for the sidecar (a phrase to follow it), or undefined when it is. */
export function quantityProblem(text: string, kind: 'cpu' | 'memory'): string | undefined {
  const q = parseQuantity(text);
  if (q === undefined) {
    const examples = kind === 'cpu' ? '25m, 0.5, 1' : '64Mi, 256Mi, 1Gi';
    return `is not a Kubernetes quantity (examples: ${examples})`;
  }
  if (q.value <= 0) return 'must be greater than zero';
  if (kind === 'memory' && q.suffix === 'm') {
    return `means ${q.value} bytes (m is milli); write Mi for mebibytes`;
  }
  return undefined;
}

/** The memory limit injected when neither the pod nor the operator sets one. */
export function builtInMemoryLimit(postgres: boolean): string {
  return postgres ? DEFAULT_RESOURCES.memoryLimit : DEFAULT_RESOURCES.embeddedMemoryLimit;
}

/** What the pod contributes: the names of its containers. */
export interface PodContainerNames {
  readonly containers: readonly string[];
  readonly initContainers: readonly string[];
}

export type AnnotationResult =
  | { readonly ok: true; readonly options: PodOptions }
  | { readonly ok: false; readonly errors: readonly string[] };

const TENANT = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

const KNOWN = new Set<string>(Object.values(ANNOTATIONS));

/** `"true"` or `"false"`, nothing else (YAML's yes/on/1 are exactly the confusion this avoids). */
export function parseBoolean(value: string): boolean | undefined {
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

function show(value: string): string {
  return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
}

function splitList(value: string): string[] {
  return value.split(',').map((item) => item.trim());
}

/** A `"true"`/`"false"` annotation; anything else is an error naming it. */
function booleanAnnotation(
  get: (name: string) => string | undefined,
  name: string,
  dflt: boolean,
  errors: string[],
): boolean {
  const text = get(name);
  if (text === undefined) return dflt;
  const parsed = parseBoolean(text);
  if (parsed === undefined) errors.push(`${name}: ${show(text)} must be "true" or "false"`);
  return parsed ?? dflt;
}

export function readAnnotations(
  annotations: Readonly<Record<string, string>>,
  pod: PodContainerNames,
  defaults: AnnotationDefaults,
): AnnotationResult {
  const errors: string[] = [];
  const get = (name: string): string | undefined => annotations[name];

  for (const name of Object.keys(annotations)) {
    if (name.startsWith(ANNOTATION_PREFIX) && !KNOWN.has(name)) {
      errors.push(`${name}: unknown annotation (known: ${[...KNOWN].sort().join(', ')})`);
    }
  }

  const status = get(ANNOTATIONS.status);
  if (status !== undefined && status !== STATUS_INJECTED) {
    errors.push(
      `${ANNOTATIONS.status}: ${show(status)} is not a value the injector writes; remove the annotation`,
    );
  }

  let mode = defaults.mode;
  const modeText = get(ANNOTATIONS.mode);
  if (modeText !== undefined) {
    if (modeText === 'native' || modeText === 'classic') mode = modeText;
    else errors.push(`${ANNOTATIONS.mode}: ${show(modeText)} must be "native" or "classic"`);
  }

  const initFirst = booleanAnnotation(get, ANNOTATIONS.initFirst, true, errors);

  let containers: string[] | undefined;
  const containersText = get(ANNOTATIONS.containers);
  if (containersText !== undefined) {
    containers = splitList(containersText);
    for (const name of containers) {
      if (!DNS1123_LABEL.test(name)) {
        errors.push(`${ANNOTATIONS.containers}: ${show(name)} is not a container name`);
      } else if (name === SIDECAR_NAME) {
        errors.push(`${ANNOTATIONS.containers}: "${SIDECAR_NAME}" is the injected container itself`);
      } else if (pod.initContainers.includes(name)) {
        if (mode !== 'native' || !initFirst) {
          errors.push(
            `${ANNOTATIONS.containers}: init container ${show(name)} runs before sidekey starts; ` +
              `only native mode with ${ANNOTATIONS.initFirst}: "true" can serve init containers`,
          );
        }
      } else if (!pod.containers.includes(name)) {
        errors.push(`${ANNOTATIONS.containers}: the pod has no container ${show(name)}`);
      }
    }
  }

  let tenants: string[] | undefined;
  const tenantsText = get(ANNOTATIONS.tenants);
  if (tenantsText !== undefined) {
    tenants = splitList(tenantsText);
    const bad = tenants.filter((t) => !TENANT.test(t));
    if (bad.length > 0) {
      errors.push(
        `${ANNOTATIONS.tenants}: ${bad.map(show).join(', ')} ${bad.length === 1 ? 'is not a tenant name' : 'are not tenant names'} ` +
          '(comma-separated, each ^[a-z0-9][a-z0-9-]{0,62}$; leave the annotation out to serve every tenant)',
      );
    }
  }

  let postgresTlsSecret = defaults.postgresTlsSecret;
  const secretText = get(ANNOTATIONS.postgresTlsSecret);
  if (secretText !== undefined) {
    if (!isDns1123Subdomain(secretText)) {
      errors.push(
        `${ANNOTATIONS.postgresTlsSecret}: ${show(secretText)} is not a Secret name (DNS-1123 subdomain)`,
      );
    } else if (!defaults.postgres) {
      errors.push(
        `${ANNOTATIONS.postgresTlsSecret}: the injector has no Postgres store configured (SIDEKEY_INJECTOR_PG_URL), ` +
          'so the sidecar would not use this Secret',
      );
    } else {
      postgresTlsSecret = secretText;
    }
  }
  if (defaults.postgres && postgresTlsSecret === undefined && secretText === undefined) {
    errors.push(
      `${ANNOTATIONS.postgresTlsSecret}: required: the sidecar connects to Postgres with a client certificate ` +
        'and the injector has no default Secret (SIDEKEY_INJECTOR_PG_TLS_SECRET)',
    );
  }

  const resources = readResources(get, errors, defaults.postgres, defaults.resources ?? {});

  let logLevel: LogLevel | undefined;
  const logLevelText = get(ANNOTATIONS.logLevel);
  if (logLevelText !== undefined) {
    if ((LOG_LEVELS as readonly string[]).includes(logLevelText)) logLevel = logLevelText as LogLevel;
    else
      errors.push(`${ANNOTATIONS.logLevel}: ${show(logLevelText)} must be one of ${LOG_LEVELS.join(', ')}`);
  }

  const doctor = booleanAnnotation(get, ANNOTATIONS.doctor, false, errors);

  if (errors.length > 0 || resources === undefined) return { ok: false, errors };
  return {
    ok: true,
    options: { mode, initFirst, containers, tenants, postgresTlsSecret, resources, logLevel, doctor },
  };
}

function readResources(
  get: (name: string) => string | undefined,
  errors: string[],
  postgres: boolean,
  defaults: ResourceDefaults,
): SidecarResources | undefined {
  const before = errors.length;
  const quantity = (name: string, kind: 'cpu' | 'memory', dflt: string | undefined): Quantity | undefined => {
    const text = get(name);
    if (text === undefined) return dflt === undefined ? undefined : parseQuantity(dflt);
    const problem = quantityProblem(text, kind);
    if (problem !== undefined) {
      errors.push(`${name}: ${show(text)} ${problem}`);
      return undefined;
    }
    return parseQuantity(text);
  };
  const cpuRequest = quantity(
    ANNOTATIONS.cpuRequest,
    'cpu',
    defaults.cpuRequest ?? DEFAULT_RESOURCES.cpuRequest,
  );
  const cpuLimit = quantity(ANNOTATIONS.cpuLimit, 'cpu', defaults.cpuLimit);
  const memoryRequest = quantity(
    ANNOTATIONS.memoryRequest,
    'memory',
    defaults.memoryRequest ?? DEFAULT_RESOURCES.memoryRequest,
  );
  const memoryLimit = quantity(
    ANNOTATIONS.memoryLimit,
    'memory',
    defaults.memoryLimit ?? builtInMemoryLimit(postgres),
  );
  if (errors.length > before || cpuRequest === undefined || memoryRequest === undefined) return undefined;

  if (memoryLimit !== undefined && memoryLimit.value < MIN_MEMORY_LIMIT_BYTES) {
    errors.push(
      `${ANNOTATIONS.memoryLimit}: ${show(memoryLimit.text)} is below 64Mi, too little for the Node.js runtime (it would be OOM-killed in a loop)`,
    );
  }
  const compare = (
    request: Quantity,
    limit: Quantity | undefined,
    requestName: string,
    limitName: string,
  ) => {
    if (limit !== undefined && request.value > limit.value) {
      const limitSource = get(limitName) === undefined ? 'the default limit' : limitName;
      errors.push(
        `${requestName}: ${show(request.text)} is more than ${limitSource} ${show(limit.text)}; raise ${limitName} too`,
      );
    }
  };
  compare(cpuRequest, cpuLimit, ANNOTATIONS.cpuRequest, ANNOTATIONS.cpuLimit);
  compare(memoryRequest, memoryLimit, ANNOTATIONS.memoryRequest, ANNOTATIONS.memoryLimit);
  if (errors.length > before) return undefined;
  return { cpuRequest, cpuLimit, memoryRequest, memoryLimit };
}
