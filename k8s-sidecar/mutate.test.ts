/**
 * The mutation, table-driven over the fixture pods in test/k8s/fixtures/pods:
 * each row runs mutatePod, applies the returned JSON Patch the way the API
 * server does, validates the resulting Pod against the Kubernetes schema
 * (unknown fields included), and checks what the row is about.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { applyPatch } from '../test/k8s/support/json-patch.js';
import { assertValidObject } from '../test/k8s/support/k8s-schema.js';
import type { MutationConfig } from './config.js';
import { mutatePod } from './mutate.js';

// biome-ignore lint/suspicious/noExplicitAny: test code walks the untyped pod JSON
type Json = any;

const CONFIG: MutationConfig = {
  image: 'registry.example/sidekey:0.1.0',
  imagePullPolicy: 'IfNotPresent',
  mode: 'native',
  excludedNamespaces: ['kube-system', 'sidekey-system'],
  kms: { provider: 'aws', keyId: 'alias/sidekey', region: 'eu-west-1' },
  postgres: {
    url: 'postgres://sidekey@pg.db.svc:5432/sidekey?sslmode=verify-full',
    defaultTlsSecret: 'sidekey-postgres-client',
  },
};

function fixture(name: string): Json {
  return parse(readFileSync(new URL(`../test/k8s/fixtures/pods/${name}.yaml`, import.meta.url), 'utf8'));
}

function withAnnotations(pod: Json, annotations: Record<string, string>): Json {
  const copy = structuredClone(pod);
  copy.metadata.annotations = { ...copy.metadata.annotations, ...annotations };
  return copy;
}

/** Runs the mutation and returns the patched, schema-validated pod; fails unless it injects. */
async function inject(pod: Json, config: MutationConfig = CONFIG, namespace = 'shop'): Promise<Json> {
  const result = mutatePod(pod, config, namespace);
  assert.equal(result.kind, 'patch', `expected a patch, got ${JSON.stringify(result)}`);
  if (result.kind !== 'patch') throw new Error('unreachable');
  for (const op of result.patch) assert.equal(op.op, 'add');
  const patched = applyPatch(pod, result.patch);
  await assertValidObject(patched, 'the injected pod');
  // Idempotent: the injected pod is never injected twice.
  assert.deepEqual(mutatePod(patched, config, namespace), { kind: 'skip', reason: 'already injected' });
  return patched;
}

function sidekeyOf(pod: Json, where: 'initContainers' | 'containers'): Json {
  const found = (pod.spec[where] ?? []).filter((c: Json) => c.name === 'sidekey');
  assert.equal(found.length, 1, `exactly one sidekey container in ${where}`);
  return found[0];
}

function envOf(container: Json): Record<string, string> {
  return Object.fromEntries((container.env ?? []).map((e: Json) => [e.name, e.value]));
}

function assertServed(container: Json): void {
  const env = envOf(container);
  assert.equal(env.SIDEKEY_URL, 'http://127.0.0.1:7600', `${container.name} SIDEKEY_URL`);
  assert.equal(env.SIDEKEY_GRPC_SOCKET, '/run/sidekey/sidekey.sock', `${container.name} SIDEKEY_GRPC_SOCKET`);
  const names = (container.env ?? []).map((e: Json) => e.name);
  assert.equal(new Set(names).size, names.length, `${container.name} has no duplicate env`);
  const mounts = (container.volumeMounts ?? []).filter((m: Json) => m.mountPath === '/run/sidekey');
  assert.deepEqual(
    mounts,
    [{ name: 'sidekey-run', mountPath: '/run/sidekey' }],
    `${container.name} mounts the socket dir`,
  );
}

function assertNotServed(container: Json): void {
  assert.equal(envOf(container).SIDEKEY_GRPC_SOCKET, undefined, `${container.name} gets no sidekey env`);
  assert.ok(
    !(container.volumeMounts ?? []).some((m: Json) => m.name === 'sidekey-run'),
    `${container.name} no mount`,
  );
}

function denial(pod: Json, config: MutationConfig = CONFIG, namespace = 'shop'): string {
  const result = mutatePod(pod, config, namespace);
  assert.equal(result.kind, 'deny', `expected a denial, got ${JSON.stringify(result).slice(0, 300)}`);
  return result.kind === 'deny' ? result.message : '';
}

describe('pods that are left alone', () => {
  const rows: { name: string; pod: Json; namespace?: string; reason: RegExp }[] = [
    { name: 'no annotation', pod: fixture('plain'), reason: /no sidekey.io\/inject annotation/ },
    {
      name: 'annotation "false"',
      pod: withAnnotations(fixture('basic'), { 'sidekey.io/inject': 'false' }),
      reason: /is "false"/,
    },
    {
      name: '"false" even with otherwise invalid annotations',
      pod: withAnnotations(fixture('basic'), {
        'sidekey.io/inject': 'false',
        'sidekey.io/cpu-request': 'lots',
      }),
      reason: /is "false"/,
    },
    { name: 'already injected', pod: fixture('already-injected'), reason: /already injected/ },
    {
      name: 'excluded namespace',
      pod: fixture('basic'),
      namespace: 'kube-system',
      reason: /kube-system is excluded/,
    },
    {
      name: "the injector's own namespace",
      pod: fixture('basic'),
      namespace: 'sidekey-system',
      reason: /sidekey-system is excluded/,
    },
  ];
  for (const row of rows) {
    it(row.name, () => {
      const result = mutatePod(row.pod, CONFIG, row.namespace ?? 'shop');
      assert.equal(result.kind, 'skip');
      assert.match(result.kind === 'skip' ? result.reason : '', row.reason);
    });
  }
});

describe('native sidecar mode', () => {
  it('injects an init container with restartPolicy Always, a startup probe and a hardened context', async () => {
    const pod = await inject(fixture('basic'));
    assert.equal(pod.metadata.annotations['sidekey.io/status'], 'injected');
    assert.deepEqual(
      pod.spec.initContainers.map((c: Json) => c.name),
      ['sidekey'],
    );
    const sidekey = sidekeyOf(pod, 'initContainers');
    assert.equal(sidekey.restartPolicy, 'Always');
    assert.equal(sidekey.image, CONFIG.image);
    assert.deepEqual(sidekey.args, ['serve']);
    assert.deepEqual(sidekey.startupProbe.exec.command.slice(-2), ['/readyz', '7600']);
    assert.deepEqual(sidekey.livenessProbe.exec.command.slice(-2), ['/healthz', '7600']);
    assert.deepEqual(sidekey.readinessProbe.exec.command.slice(-2), ['/readyz', '7600']);
    assert.equal(sidekey.lifecycle, undefined);
    assert.deepEqual(sidekey.securityContext, {
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      privileged: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    });
    assert.deepEqual(sidekey.resources, {
      requests: { cpu: '25m', memory: '96Mi' },
      limits: { memory: '192Mi' },
    });
    const env = envOf(sidekey);
    assert.deepEqual(env, {
      SIDEKEY_HTTP_HOST: '127.0.0.1',
      SIDEKEY_HTTP_PORT: '7600',
      SIDEKEY_GRPC_SOCKET: '/run/sidekey/sidekey.sock',
      SIDEKEY_DATA_DIR: '/var/lib/sidekey',
      SIDEKEY_STORE: 'postgres',
      SIDEKEY_PG_URL: CONFIG.postgres!.url,
      SIDEKEY_PG_CA_FILE: '/etc/sidekey/postgres/ca.crt',
      SIDEKEY_PG_CERT_FILE: '/etc/sidekey/postgres/tls.crt',
      SIDEKEY_PG_KEY_FILE: '/etc/sidekey/postgres/tls.key',
      SIDEKEY_KMS: 'aws',
      SIDEKEY_KMS_KEY_ID: 'alias/sidekey',
      AWS_REGION: 'eu-west-1',
      NODE_OPTIONS: '--max-old-space-size=115',
    });
    const app = pod.spec.containers[0];
    assertServed(app);
    assert.deepEqual(
      pod.spec.volumes.map((v: Json) => v.name),
      ['sidekey-run', 'sidekey-data', 'sidekey-postgres-tls'],
    );
    assert.equal(pod.spec.volumes[2].secret.secretName, 'sidekey-postgres-client');
    assert.deepEqual(
      sidekey.volumeMounts.map((m: Json) => `${m.name}:${m.mountPath}:${m.readOnly === true}`),
      [
        'sidekey-run:/run/sidekey:false',
        'sidekey-data:/var/lib/sidekey:false',
        'sidekey-postgres-tls:/etc/sidekey/postgres:true',
      ],
    );
  });

  it('keeps existing init containers, volumes, env and mounts, and serves every app container', async () => {
    const before = fixture('busy');
    const pod = await inject(before);
    assert.deepEqual(
      pod.spec.initContainers.map((c: Json) => c.name),
      ['sidekey', 'migrate', 'warm-cache'],
    );
    assert.deepEqual(pod.spec.initContainers.slice(1), before.spec.initContainers);
    assert.deepEqual(
      pod.spec.volumes.map((v: Json) => v.name),
      ['config', 'sidekey-run', 'sidekey-data', 'sidekey-postgres-tls'],
    );
    assert.deepEqual(
      pod.spec.containers.map((c: Json) => c.name),
      ['web', 'worker', 'metrics'],
    );
    for (const c of pod.spec.containers) assertServed(c);
    const web = pod.spec.containers[0];
    assert.deepEqual(web.env[0], { name: 'LOG_LEVEL', value: 'info' });
    assert.deepEqual(web.volumeMounts[0], { name: 'config', mountPath: '/etc/web', readOnly: true });
    assert.equal(pod.metadata.annotations['prometheus.io/scrape'], 'true');
    assert.equal(pod.spec.securityContext.fsGroup, 2000);
  });

  it('with init-first "false", starts after the existing init containers', async () => {
    const pod = await inject(withAnnotations(fixture('busy'), { 'sidekey.io/init-first': 'false' }));
    assert.deepEqual(
      pod.spec.initContainers.map((c: Json) => c.name),
      ['migrate', 'warm-cache', 'sidekey'],
    );
  });

  it('serves only the containers named by sidekey.io/containers, init containers included', async () => {
    const pod = await inject(withAnnotations(fixture('busy'), { 'sidekey.io/containers': 'migrate, web' }));
    const byName = (list: Json[], name: string) => list.find((c) => c.name === name);
    assertServed(byName(pod.spec.initContainers, 'migrate'));
    assertServed(byName(pod.spec.containers, 'web'));
    assertNotServed(byName(pod.spec.initContainers, 'warm-cache'));
    assertNotServed(byName(pod.spec.containers, 'worker'));
    assertNotServed(byName(pod.spec.containers, 'metrics'));
  });

  it('lets a Job complete: native sidecar, restartPolicy Never kept', async () => {
    const pod = await inject(fixture('job'));
    assert.equal(sidekeyOf(pod, 'initContainers').restartPolicy, 'Always');
    assert.equal(pod.spec.restartPolicy, 'Never');
  });
});

describe('classic mode', () => {
  const classic: MutationConfig = { ...CONFIG, mode: 'classic' };

  it('injects a regular first container that holds the app back until ready (configured)', async () => {
    const pod = await inject(fixture('busy'), classic);
    assert.deepEqual(
      pod.spec.containers.map((c: Json) => c.name),
      ['sidekey', 'web', 'worker', 'metrics'],
    );
    assert.deepEqual(
      pod.spec.initContainers.map((c: Json) => c.name),
      ['migrate', 'warm-cache'],
    );
    const sidekey = sidekeyOf(pod, 'containers');
    assert.equal(sidekey.restartPolicy, undefined);
    assert.deepEqual(sidekey.lifecycle.postStart.exec.command.slice(-3), ['/readyz', '7600', '120']);
    for (const c of pod.spec.containers.slice(1)) assertServed(c);
  });

  it('is chosen per pod by sidekey.io/mode', async () => {
    const pod = await inject(withAnnotations(fixture('basic'), { 'sidekey.io/mode': 'classic' }));
    assert.equal(pod.spec.initContainers, undefined);
    sidekeyOf(pod, 'containers');
    const back = await inject(withAnnotations(fixture('basic'), { 'sidekey.io/mode': 'native' }), classic);
    sidekeyOf(back, 'initContainers');
  });

  it('refuses run-to-completion pods, which it would keep running forever', () => {
    assert.match(
      denial(fixture('job'), classic),
      /sidekey.io\/mode: classic mode would keep this Job's pod running/,
    );
    const bare = withAnnotations(fixture('basic'), {});
    bare.spec.restartPolicy = 'OnFailure';
    assert.match(denial(bare, classic), /restartPolicy OnFailure/);
  });
});

describe('resource annotations', () => {
  const rows: { annotations: Record<string, string>; resources: Json; heap?: string }[] = [
    {
      annotations: { 'sidekey.io/cpu-request': '100m' },
      resources: { requests: { cpu: '100m', memory: '96Mi' }, limits: { memory: '192Mi' } },
    },
    {
      annotations: { 'sidekey.io/cpu-limit': '1' },
      resources: { requests: { cpu: '25m', memory: '96Mi' }, limits: { cpu: '1', memory: '192Mi' } },
    },
    {
      annotations: { 'sidekey.io/memory-request': '64Mi' },
      resources: { requests: { cpu: '25m', memory: '64Mi' }, limits: { memory: '192Mi' } },
    },
    {
      annotations: { 'sidekey.io/memory-limit': '1Gi' },
      resources: { requests: { cpu: '25m', memory: '96Mi' }, limits: { memory: '1Gi' } },
      heap: '--max-old-space-size=614',
    },
    {
      annotations: {
        'sidekey.io/cpu-request': '0.5',
        'sidekey.io/cpu-limit': '2',
        'sidekey.io/memory-request': '256M',
        'sidekey.io/memory-limit': '512e6',
      },
      resources: { requests: { cpu: '0.5', memory: '256M' }, limits: { cpu: '2', memory: '512e6' } },
    },
  ];
  for (const row of rows) {
    it(JSON.stringify(row.annotations), async () => {
      const pod = await inject(withAnnotations(fixture('basic'), row.annotations));
      const sidekey = sidekeyOf(pod, 'initContainers');
      assert.deepEqual(sidekey.resources, row.resources);
      if (row.heap !== undefined) assert.equal(envOf(sidekey).NODE_OPTIONS, row.heap);
    });
  }
});

describe('operator-wide resource defaults (injector configuration)', () => {
  const config: MutationConfig = {
    ...CONFIG,
    resourceDefaults: { cpuRequest: '50m', memoryRequest: '128Mi', memoryLimit: '256Mi' },
  };

  it('replace the built-in defaults, the heap cap following the limit', async () => {
    const sidekey = sidekeyOf(await inject(fixture('basic'), config), 'initContainers');
    assert.deepEqual(sidekey.resources, {
      requests: { cpu: '50m', memory: '128Mi' },
      limits: { memory: '256Mi' },
    });
    assert.equal(envOf(sidekey).NODE_OPTIONS, '--max-old-space-size=153');
  });

  it('still give way to the pod annotations', async () => {
    const pod = withAnnotations(fixture('basic'), {
      'sidekey.io/cpu-request': '10m',
      'sidekey.io/memory-limit': '512Mi',
    });
    const sidekey = sidekeyOf(await inject(pod, config), 'initContainers');
    assert.deepEqual(sidekey.resources, {
      requests: { cpu: '10m', memory: '128Mi' },
      limits: { memory: '512Mi' },
    });
  });

  it('are checked against the annotations: a request above the default limit is denied, naming both', () => {
    const result = mutatePod(
      withAnnotations(fixture('basic'), { 'sidekey.io/memory-request': '300Mi' }),
      config,
      'shop',
    );
    assert.equal(result.kind, 'deny');
    if (result.kind !== 'deny') return;
    assert.match(
      result.message,
      /sidekey.io\/memory-request: "300Mi" is more than the default limit "256Mi"/,
    );
  });
});

describe('tenants, log level and the Postgres client Secret', () => {
  it('passes sidekey.io/tenants and sidekey.io/log-level to the sidecar', async () => {
    const pod = await inject(
      withAnnotations(fixture('basic'), {
        'sidekey.io/tenants': 'acme, globex-eu',
        'sidekey.io/log-level': 'debug',
      }),
    );
    const env = envOf(sidekeyOf(pod, 'initContainers'));
    assert.equal(env.SIDEKEY_TENANTS, 'acme,globex-eu');
    assert.equal(env.SIDEKEY_LOG_LEVEL, 'debug');
  });

  it('mounts the Secret named by sidekey.io/postgres-tls-secret, read-only, into the sidecar only', async () => {
    const pod = await inject(
      withAnnotations(fixture('busy'), { 'sidekey.io/postgres-tls-secret': 'shop-pg.client' }),
    );
    const volume = pod.spec.volumes.find((v: Json) => v.name === 'sidekey-postgres-tls');
    assert.deepEqual(volume.secret, {
      secretName: 'shop-pg.client',
      defaultMode: 0o444,
      items: [
        { key: 'ca.crt', path: 'ca.crt' },
        { key: 'tls.crt', path: 'tls.crt' },
        { key: 'tls.key', path: 'tls.key' },
      ],
    });
    for (const c of pod.spec.containers) {
      assert.ok(!(c.volumeMounts ?? []).some((m: Json) => m.name === 'sidekey-postgres-tls'), c.name);
    }
  });

  it('uses the embedded store and the local KMS when the injector has neither, and says so', () => {
    const dev: MutationConfig = { ...CONFIG, postgres: undefined, kms: { provider: 'local' } };
    const result = mutatePod(fixture('basic'), dev, 'shop');
    assert.equal(result.kind, 'patch');
    if (result.kind !== 'patch') return;
    assert.equal(result.warnings.length, 2);
    const pod = applyPatch(fixture('basic'), result.patch) as Json;
    const env = envOf(sidekeyOf(pod, 'initContainers'));
    assert.equal(env.SIDEKEY_STORE, 'embedded');
    assert.equal(env.SIDEKEY_KMS, 'local');
    assert.equal(env.SIDEKEY_PG_URL, undefined);
    assert.deepEqual(
      sidekeyOf(pod, 'initContainers').resources.limits,
      { memory: '1Gi' },
      'room for the embedded store',
    );
    assert.ok(!pod.spec.volumes.some((v: Json) => v.name === 'sidekey-postgres-tls'));
  });

  it('passes the Vault settings', async () => {
    const vault: MutationConfig = {
      ...CONFIG,
      kms: {
        provider: 'vault',
        keyId: 'sidekey',
        addr: 'https://vault.vault.svc:8200',
        k8sRole: 'sidekey',
        transitMount: 'kms',
      },
    };
    const env = envOf(sidekeyOf(await inject(fixture('basic'), vault), 'initContainers'));
    assert.equal(env.SIDEKEY_KMS, 'vault');
    assert.equal(env.VAULT_ADDR, 'https://vault.vault.svc:8200');
    assert.equal(env.SIDEKEY_VAULT_K8S_ROLE, 'sidekey');
    assert.equal(env.SIDEKEY_VAULT_TRANSIT_MOUNT, 'kms');
    assert.equal(env.AWS_REGION, undefined);
  });
});

describe('invalid annotations deny the pod, naming the annotation and why', () => {
  const rows: { annotations: Record<string, string>; config?: MutationConfig; message: RegExp }[] = [
    {
      annotations: { 'sidekey.io/inject': 'yes' },
      message: /sidekey.io\/inject: "yes" must be "true" or "false"/,
    },
    {
      annotations: { 'sidekey.io/inject': 'True' },
      message: /sidekey.io\/inject: "True" must be "true" or "false"/,
    },
    {
      annotations: { 'sidekey.io/mode': 'sidecar' },
      message: /sidekey.io\/mode: "sidecar" must be "native" or "classic"/,
    },
    {
      annotations: { 'sidekey.io/init-first': '1' },
      message: /sidekey.io\/init-first: "1" must be "true" or "false"/,
    },
    {
      annotations: { 'sidekey.io/cpu-request': 'lots' },
      message: /sidekey.io\/cpu-request: "lots" is not a Kubernetes quantity/,
    },
    {
      annotations: { 'sidekey.io/cpu-limit': '1.5 cores' },
      message: /sidekey.io\/cpu-limit: "1.5 cores" is not a Kubernetes quantity/,
    },
    {
      annotations: { 'sidekey.io/cpu-request': '0' },
      message: /sidekey.io\/cpu-request: "0" must be greater than zero/,
    },
    {
      annotations: { 'sidekey.io/memory-request': '64MB' },
      message: /sidekey.io\/memory-request: "64MB" is not a Kubernetes quantity/,
    },
    {
      annotations: { 'sidekey.io/memory-limit': '-1Gi' },
      message: /sidekey.io\/memory-limit: "-1Gi" must be greater than zero/,
    },
    {
      annotations: { 'sidekey.io/memory-limit': '256m' },
      message: /sidekey.io\/memory-limit: "256m" means 0.256 bytes \(m is milli\); write Mi/,
    },
    {
      annotations: { 'sidekey.io/memory-limit': '32Mi' },
      message: /sidekey.io\/memory-limit: "32Mi" is below 64Mi/,
    },
    {
      annotations: { 'sidekey.io/memory-request': '256Mi' },
      message:
        /sidekey.io\/memory-request: "256Mi" is more than the default limit "192Mi"; raise sidekey.io\/memory-limit/,
    },
    {
      annotations: { 'sidekey.io/cpu-request': '2', 'sidekey.io/cpu-limit': '500m' },
      message: /sidekey.io\/cpu-request: "2" is more than sidekey.io\/cpu-limit "500m"/,
    },
    {
      annotations: { 'sidekey.io/tenants': 'Acme' },
      message: /sidekey.io\/tenants: "Acme" is not a tenant name/,
    },
    {
      annotations: { 'sidekey.io/tenants': 'acme,,beta' },
      message: /sidekey.io\/tenants: "" is not a tenant name/,
    },
    { annotations: { 'sidekey.io/tenants': '' }, message: /sidekey.io\/tenants: "" is not a tenant name/ },
    {
      annotations: { 'sidekey.io/tenants': `a${'b'.repeat(63)}` },
      message: /sidekey.io\/tenants: "ab{63}" is not a tenant name/,
    },
    {
      annotations: { 'sidekey.io/postgres-tls-secret': 'PG_Client' },
      message: /sidekey.io\/postgres-tls-secret: "PG_Client" is not a Secret name \(DNS-1123 subdomain\)/,
    },
    {
      annotations: { 'sidekey.io/postgres-tls-secret': '-pg' },
      message: /sidekey.io\/postgres-tls-secret: "-pg" is not a Secret name/,
    },
    {
      annotations: {},
      config: { ...CONFIG, postgres: { url: CONFIG.postgres!.url, defaultTlsSecret: undefined } },
      message: /sidekey.io\/postgres-tls-secret: required/,
    },
    {
      annotations: { 'sidekey.io/postgres-tls-secret': 'pg-client' },
      config: { ...CONFIG, postgres: undefined },
      message: /sidekey.io\/postgres-tls-secret: the injector has no Postgres store configured/,
    },
    {
      annotations: { 'sidekey.io/log-level': 'verbose' },
      message: /sidekey.io\/log-level: "verbose" must be one of/,
    },
    {
      annotations: { 'sidekey.io/containers': 'api' },
      message: /sidekey.io\/containers: the pod has no container "api"/,
    },
    {
      annotations: { 'sidekey.io/containers': 'sidekey' },
      message: /sidekey.io\/containers: "sidekey" is the injected container/,
    },
    {
      annotations: { 'sidekey.io/containers': 'Web' },
      message: /sidekey.io\/containers: "Web" is not a container name/,
    },
    {
      annotations: { 'sidekey.io/status': 'pending' },
      message: /sidekey.io\/status: "pending" is not a value the injector writes/,
    },
    {
      annotations: { 'sidekey.io/cpu-requests': '1' },
      message: /sidekey.io\/cpu-requests: unknown annotation \(known: /,
    },
  ];
  for (const row of rows) {
    it(JSON.stringify(row.annotations), () => {
      const message = denial(withAnnotations(fixture('basic'), row.annotations), row.config);
      assert.match(message, /^sidekey injection refused: /);
      assert.match(message, row.message);
    });
  }

  it('reports every problem at once', () => {
    const message = denial(
      withAnnotations(fixture('basic'), {
        'sidekey.io/cpu-request': 'x',
        'sidekey.io/tenants': 'A',
        'sidekey.io/mode': 'y',
      }),
    );
    for (const name of ['cpu-request', 'tenants', 'mode'])
      assert.match(message, new RegExp(`sidekey.io/${name}:`));
  });

  it('refuses init containers that would run before sidekey', () => {
    const pod = withAnnotations(fixture('busy'), {
      'sidekey.io/containers': 'migrate',
      'sidekey.io/init-first': 'false',
    });
    assert.match(denial(pod), /sidekey.io\/containers: init container "migrate" runs before sidekey starts/);
  });
});

describe('sidekey.io/doctor: "true" runs `sidekey doctor` before the sidecar', () => {
  const doctorOf = (pod: Json) => {
    const found = (pod.spec.initContainers ?? []).filter((c: Json) => c.name === 'sidekey-doctor');
    assert.equal(found.length, 1, 'exactly one sidekey-doctor init container');
    return found[0];
  };

  it('as an init container right before the native sidecar, with its settings and mounts, no probes', async () => {
    const pod = await inject(withAnnotations(fixture('basic'), { 'sidekey.io/doctor': 'true' }));
    assert.deepEqual(
      pod.spec.initContainers.map((c: Json) => c.name),
      ['sidekey-doctor', 'sidekey'],
    );
    const doctor = doctorOf(pod);
    const sidecar = sidekeyOf(pod, 'initContainers');
    assert.deepEqual(doctor.args, ['doctor']);
    for (const field of ['image', 'env', 'volumeMounts', 'securityContext', 'resources'])
      assert.deepEqual(doctor[field], sidecar[field], field);
    for (const field of ['restartPolicy', 'startupProbe', 'livenessProbe', 'readinessProbe', 'lifecycle'])
      assert.equal(doctor[field], undefined, field);
  });

  it('keeps the order with existing init containers, init-first or not', async () => {
    const first = await inject(withAnnotations(fixture('busy'), { 'sidekey.io/doctor': 'true' }));
    assert.deepEqual(
      first.spec.initContainers.map((c: Json) => c.name),
      ['sidekey-doctor', 'sidekey', 'migrate', 'warm-cache'],
    );
    const last = await inject(
      withAnnotations(fixture('busy'), { 'sidekey.io/doctor': 'true', 'sidekey.io/init-first': 'false' }),
    );
    assert.deepEqual(
      last.spec.initContainers.map((c: Json) => c.name),
      ['migrate', 'warm-cache', 'sidekey-doctor', 'sidekey'],
    );
  });

  it('in classic mode, as the last init container, before every container', async () => {
    const pod = await inject(withAnnotations(fixture('busy'), { 'sidekey.io/doctor': 'true' }), {
      ...CONFIG,
      mode: 'classic',
    });
    assert.deepEqual(
      pod.spec.initContainers.map((c: Json) => c.name),
      ['migrate', 'warm-cache', 'sidekey-doctor'],
    );
    assert.equal(pod.spec.containers[0].name, 'sidekey');
    const plain = await inject(withAnnotations(fixture('basic'), { 'sidekey.io/doctor': 'true' }), {
      ...CONFIG,
      mode: 'classic',
    });
    assert.deepEqual(
      plain.spec.initContainers.map((c: Json) => c.name),
      ['sidekey-doctor'],
    );
  });

  it('is off by default, and anything but "true" or "false" is refused', async () => {
    const pod = await inject(fixture('basic'));
    assert.ok(!pod.spec.initContainers.some((c: Json) => c.name === 'sidekey-doctor'));
    assert.match(
      denial(withAnnotations(fixture('basic'), { 'sidekey.io/doctor': 'yes' })),
      /sidekey.io\/doctor: "yes" must be "true" or "false"/,
    );
    const taken = withAnnotations(fixture('busy'), { 'sidekey.io/doctor': 'true' });
    taken.spec.initContainers[0].name = 'sidekey-doctor';
    assert.match(denial(taken), /already has a container named "sidekey-doctor"/);
  });
});

describe('pods that cannot take the sidecar as they are', () => {
  it('a container already named sidekey without the status annotation', () => {
    const pod = withAnnotations(fixture('basic'), {});
    pod.spec.containers.push({ name: 'sidekey', image: 'x' });
    assert.match(denial(pod), /already has a container named "sidekey"/);
  });

  it('a volume with one of the injected names', () => {
    const pod = withAnnotations(fixture('basic'), {});
    pod.spec.volumes = [{ name: 'sidekey-data', emptyDir: {} }];
    assert.match(denial(pod), /already has a volume named "sidekey-data"/);
  });

  it('an app container already mounting something at /run/sidekey', () => {
    const pod = withAnnotations(fixture('basic'), {});
    pod.spec.containers[0].volumeMounts = [{ name: 'other', mountPath: '/run/sidekey' }];
    assert.match(denial(pod), /container "app" already mounts something at \/run\/sidekey/);
  });

  it('an object that is not a Pod', () => {
    assert.match(denial({ metadata: { annotations: { 'sidekey.io/inject': 'true' } } }), /spec is missing/);
    assert.match(denial('pod'), /not a Pod/);
  });
});
