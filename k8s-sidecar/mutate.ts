/**
 * The mutation: pod + injector configuration + namespace → a JSON Patch that
 * injects sidekey, nothing to do, or a denial. Pure, so every case is a table
 * row in mutate.test.ts; the HTTPS server only decodes and encodes.
 */

import { type PodOptions, parseBoolean, readAnnotations } from './annotations.js';
import type { MutationConfig } from './config.js';
import { ANNOTATIONS, DOCTOR_NAME, RUN_DIR, SIDECAR_NAME, STATUS_INJECTED, VOLUMES } from './constants.js';
import { type AddOperation, type JsonPatch, pointer } from './json-patch.js';
import {
  applicationEnv,
  applicationMount,
  doctorContainer,
  sidecarContainer,
  sidecarVolumes,
} from './sidecar.js';

export type MutationResult =
  /** Allowed unchanged; `reason` is for the log. */
  | { readonly kind: 'skip'; readonly reason: string }
  | { readonly kind: 'patch'; readonly patch: JsonPatch; readonly warnings: readonly string[] }
  | { readonly kind: 'deny'; readonly message: string };

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

interface ContainerView {
  readonly name: string;
  readonly env: readonly unknown[] | undefined;
  readonly volumeMounts: readonly unknown[] | undefined;
}

interface PodView {
  readonly annotations: Readonly<Record<string, string>>;
  readonly containers: readonly ContainerView[];
  readonly initContainers: readonly ContainerView[] | undefined;
  readonly volumes: readonly unknown[] | undefined;
  readonly restartPolicy: string | undefined;
  readonly ownerKinds: readonly string[];
}

function containerView(v: unknown): ContainerView | undefined {
  if (!isObject(v) || typeof v.name !== 'string') return undefined;
  if (v.env !== undefined && !Array.isArray(v.env)) return undefined;
  if (v.volumeMounts !== undefined && !Array.isArray(v.volumeMounts)) return undefined;
  return {
    name: v.name,
    env: v.env as unknown[] | undefined,
    volumeMounts: v.volumeMounts as unknown[] | undefined,
  };
}

function containerList(v: unknown): ContainerView[] | undefined {
  if (!Array.isArray(v)) return undefined;
  const list = v.map(containerView);
  return list.every((c) => c !== undefined) ? (list as ContainerView[]) : undefined;
}

/** The parts of the pod the mutation reads, or a reason why the object is not a usable Pod. */
function viewPod(pod: unknown): PodView | string {
  if (!isObject(pod)) return 'the object is not a Pod';
  const metadata = pod.metadata ?? {};
  if (!isObject(metadata)) return 'metadata is not an object';
  const annotations = metadata.annotations ?? {};
  if (!isObject(annotations) || !Object.values(annotations).every((a) => typeof a === 'string')) {
    return 'metadata.annotations is not a map of strings';
  }
  const spec = pod.spec;
  if (!isObject(spec)) return 'spec is missing';
  const containers = containerList(spec.containers);
  if (containers === undefined) return 'spec.containers is not a list of named containers';
  const initContainers = spec.initContainers === undefined ? undefined : containerList(spec.initContainers);
  if (spec.initContainers !== undefined && initContainers === undefined) {
    return 'spec.initContainers is not a list of named containers';
  }
  if (spec.volumes !== undefined && !Array.isArray(spec.volumes)) return 'spec.volumes is not a list';
  const owners = Array.isArray(metadata.ownerReferences) ? metadata.ownerReferences : [];
  return {
    annotations: annotations as Record<string, string>,
    containers,
    initContainers,
    volumes: spec.volumes as unknown[] | undefined,
    restartPolicy: typeof spec.restartPolicy === 'string' ? spec.restartPolicy : undefined,
    ownerKinds: owners.filter(isObject).map((o) => String(o.kind)),
  };
}

function deny(...problems: string[]): MutationResult {
  return { kind: 'deny', message: `sidekey injection refused: ${problems.join('; ')}` };
}

export function mutatePod(pod: unknown, config: MutationConfig, namespace: string): MutationResult {
  if (config.excludedNamespaces.includes(namespace)) {
    return { kind: 'skip', reason: `namespace ${namespace} is excluded` };
  }
  const view = viewPod(pod);
  if (typeof view === 'string') return deny(view);

  const injectText = view.annotations[ANNOTATIONS.inject];
  if (injectText === undefined) return { kind: 'skip', reason: `no ${ANNOTATIONS.inject} annotation` };
  const inject = parseBoolean(injectText);
  if (inject === undefined) {
    return deny(`${ANNOTATIONS.inject}: ${JSON.stringify(injectText)} must be "true" or "false"`);
  }
  if (!inject) return { kind: 'skip', reason: `${ANNOTATIONS.inject} is "false"` };
  if (view.annotations[ANNOTATIONS.status] === STATUS_INJECTED) {
    return { kind: 'skip', reason: 'already injected' };
  }

  const read = readAnnotations(
    view.annotations,
    {
      containers: view.containers.map((c) => c.name),
      initContainers: (view.initContainers ?? []).map((c) => c.name),
    },
    {
      mode: config.mode,
      postgres: config.postgres !== undefined,
      postgresTlsSecret: config.postgres?.defaultTlsSecret,
      ...(config.resourceDefaults !== undefined && { resources: config.resourceDefaults }),
    },
  );
  if (!read.ok) return deny(...read.errors);
  const options = read.options;

  const problems = conflicts(view, options);
  if (problems.length > 0) return deny(...problems);

  return { kind: 'patch', patch: buildPatch(view, config, options), warnings: warnings(config) };
}

/** Reasons the pod cannot take the sidecar as it is. */
function conflicts(view: PodView, options: PodOptions): string[] {
  const problems: string[] = [];
  const all = [...view.containers, ...(view.initContainers ?? [])];
  if (all.some((c) => c.name === SIDECAR_NAME)) {
    problems.push(
      `the pod already has a container named "${SIDECAR_NAME}" but no ${ANNOTATIONS.status}: "${STATUS_INJECTED}" annotation`,
    );
  }
  if (options.doctor && all.some((c) => c.name === DOCTOR_NAME)) {
    problems.push(`${ANNOTATIONS.doctor}: the pod already has a container named "${DOCTOR_NAME}"`);
  }
  const ours = new Set<string>(Object.values(VOLUMES));
  for (const v of view.volumes ?? []) {
    const name = isObject(v) ? v.name : undefined;
    if (typeof name === 'string' && ours.has(name))
      problems.push(`the pod already has a volume named "${name}"`);
  }
  for (const c of targets(view, options)) {
    const clash = (c.volumeMounts ?? []).some((m) => isObject(m) && m.mountPath === RUN_DIR);
    if (clash) problems.push(`container "${c.name}" already mounts something at ${RUN_DIR}`);
  }
  if (options.mode === 'classic') {
    // A regular container never exits, so a run-to-completion pod would never complete.
    if (view.ownerKinds.includes('Job')) {
      problems.push(
        `${ANNOTATIONS.mode}: classic mode would keep this Job's pod running forever; use "native" (Kubernetes 1.29+)`,
      );
    } else if (view.restartPolicy === 'Never' || view.restartPolicy === 'OnFailure') {
      problems.push(
        `${ANNOTATIONS.mode}: classic mode would keep this pod (restartPolicy ${view.restartPolicy}) from ever completing; use "native" (Kubernetes 1.29+)`,
      );
    }
  }
  return problems;
}

interface Target extends ContainerView {
  /** JSON Pointer of the container in the pod. */
  readonly path: string;
}

/** The application containers (and permitted init containers) that get the env and the socket mount. */
function targets(view: PodView, options: PodOptions): Target[] {
  const containers = view.containers.map((c, i) => ({ ...c, path: pointer('spec', 'containers', i) }));
  const chosen = options.containers;
  if (chosen === undefined) return containers;
  const inits = (view.initContainers ?? []).map((c, i) => ({
    ...c,
    path: pointer('spec', 'initContainers', i),
  }));
  return [...inits, ...containers].filter((c) => chosen.includes(c.name));
}

function warnings(config: MutationConfig): string[] {
  const out: string[] = [];
  if (config.kms.provider === 'local') {
    out.push('sidekey: the injector uses the local development KMS; keys live in the pod and die with it');
  }
  if (config.postgres === undefined) {
    out.push('sidekey: the injector uses the embedded store; tokens live in the pod and die with it');
  }
  return out;
}

function buildPatch(view: PodView, config: MutationConfig, options: PodOptions): AddOperation[] {
  const ops: AddOperation[] = [];
  const sidecar = sidecarContainer(config, options);
  // Patches apply in order: the targets' paths hold only before the sidekey
  // container is inserted ahead of them, so their env and mounts come first.
  for (const target of targets(view, options)) {
    const envPath = `${target.path}/env`;
    const have = new Set((target.env ?? []).map((e) => (isObject(e) ? e.name : undefined)));
    const add = applicationEnv().filter((e) => !have.has(e.name));
    if (target.env === undefined) {
      ops.push({ op: 'add', path: envPath, value: add });
    } else {
      for (const e of add) ops.push({ op: 'add', path: `${envPath}/-`, value: e });
    }
    const mountsPath = `${target.path}/volumeMounts`;
    if (target.volumeMounts === undefined)
      ops.push({ op: 'add', path: mountsPath, value: [applicationMount()] });
    else ops.push({ op: 'add', path: `${mountsPath}/-`, value: applicationMount() });
  }

  // `sidekey doctor` runs to completion right before the sidecar starts (native), or
  // after the pod's own init containers and before every container (classic).
  const doctor = options.doctor ? [doctorContainer(config, options)] : [];
  const inits = pointer('spec', 'initContainers');
  if (options.mode === 'native') {
    if (view.initContainers === undefined) {
      ops.push({ op: 'add', path: inits, value: [...doctor, sidecar] });
    } else if (options.initFirst) {
      ops.push({ op: 'add', path: `${inits}/0`, value: sidecar });
      for (const d of doctor) ops.push({ op: 'add', path: `${inits}/0`, value: d });
    } else {
      for (const c of [...doctor, sidecar]) ops.push({ op: 'add', path: `${inits}/-`, value: c });
    }
  } else {
    // First, so the kubelet starts it (and waits for its postStart hook) before the application.
    ops.push({ op: 'add', path: `${pointer('spec', 'containers')}/0`, value: sidecar });
    if (doctor.length > 0) {
      if (view.initContainers === undefined) ops.push({ op: 'add', path: inits, value: doctor });
      else ops.push({ op: 'add', path: `${inits}/-`, value: doctor[0] });
    }
  }

  const volumes = sidecarVolumes(config, options);
  if (view.volumes === undefined) ops.push({ op: 'add', path: pointer('spec', 'volumes'), value: volumes });
  else for (const v of volumes) ops.push({ op: 'add', path: `${pointer('spec', 'volumes')}/-`, value: v });

  ops.push({
    op: 'add',
    path: pointer('metadata', 'annotations', ANNOTATIONS.status),
    value: STATUS_INJECTED,
  });
  return ops;
}
