/**
 * deploy/: every Kustomize overlay (and the base) renders with
 * `kubectl kustomize`, and every rendered object is valid against the
 * Kubernetes schema (cert-manager's for its objects), unknown fields
 * included. The rendered configuration is accepted by the injector, and the
 * example workloads, once injected, are valid pods.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { loadInjectorConfig, mutatePod } from '../../k8s-sidecar/index.js';
import { applyPatch } from './support/json-patch.js';
import { assertValidObject } from './support/k8s-schema.js';

// biome-ignore lint/suspicious/noExplicitAny: test code walks untyped manifests
type Json = any;

const DEPLOY = fileURLToPath(new URL('../../deploy/', import.meta.url));
const OVERLAYS = readdirSync(join(DEPLOY, 'kustomize', 'overlays')).sort();

function parseYamlDocuments(text: string): Json[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(doc.errors.map((e) => e.message).join('; '));
      return doc.toJS();
    })
    .filter((o) => o !== null && o !== undefined);
}

/**
 * kustomize wraps long base64 values (Secret data, caBundle) over several
 * lines. The API server accepts that (Go's base64 decoder skips line breaks);
 * the schema's "byte" format does not, so the breaks are removed first.
 */
function unwrapBase64(o: Json): Json {
  const copy = structuredClone(o);
  const unwrap = (map: Record<string, string> | undefined) => {
    for (const k of Object.keys(map ?? {})) map![k] = map![k]!.replace(/\s+/g, '');
  };
  if (copy.kind === 'Secret') unwrap(copy.data);
  if (copy.kind === 'ConfigMap') unwrap(copy.binaryData);
  for (const w of copy.kind === 'MutatingWebhookConfiguration' ? copy.webhooks : []) {
    if (typeof w.clientConfig.caBundle === 'string')
      w.clientConfig.caBundle = w.clientConfig.caBundle.replace(/\s+/g, '');
  }
  return copy;
}

let work: string;
const rendered = new Map<string, Json[]>();

before(() => {
  // A copy, so generate-certs.sh writes its keys there and never into the checkout.
  work = mkdtempSync(join(tmpdir(), 'sidekey-kustomize-'));
  cpSync(join(DEPLOY, 'kustomize'), work, { recursive: true });
  rmSync(join(work, 'overlays', 'manual-tls', 'tls'), { recursive: true, force: true });
  execFileSync('sh', [join(work, 'overlays', 'manual-tls', 'generate-certs.sh')], { stdio: 'pipe' });
});

after(() => rmSync(work, { recursive: true, force: true }));

function render(dir: string): Json[] {
  const known = rendered.get(dir);
  if (known !== undefined) return known;
  const out = execFileSync('kubectl', ['kustomize', join(work, dir)], { encoding: 'utf8', stdio: 'pipe' });
  const objects = parseYamlDocuments(out);
  rendered.set(dir, objects);
  return objects;
}

function one(objects: Json[], kind: string, name?: string): Json {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  assert.equal(found.length, 1, `exactly one ${kind}${name === undefined ? '' : ` ${name}`}`);
  return found[0];
}

describe('kubectl kustomize', () => {
  it('finds the overlays', () => {
    assert.deepEqual(OVERLAYS, ['cert-manager', 'classic-mode', 'manual-tls']);
  });

  for (const dir of ['base', ...OVERLAYS.map((o) => `overlays/${o}`)]) {
    it(`${dir}: renders, and every object is schema-valid`, async () => {
      const objects = render(dir);
      assert.ok(objects.length >= 7, `${objects.length} objects`);
      for (const o of objects)
        await assertValidObject(unwrapBase64(o), `${dir}: ${o.kind} ${o.metadata?.name}`);

      // What every variant deploys.
      const deployment = one(objects, 'Deployment', 'sidekey-injector');
      assert.equal(deployment.spec.replicas, 2);
      const pdb = one(objects, 'PodDisruptionBudget', 'sidekey-injector');
      assert.deepEqual(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
      const service = one(objects, 'Service', 'sidekey-injector');
      assert.deepEqual(service.spec.selector, deployment.spec.selector.matchLabels);
      one(objects, 'ServiceAccount', 'sidekey-injector');

      const webhook = one(objects, 'MutatingWebhookConfiguration', 'sidekey-injector').webhooks[0];
      assert.equal(webhook.failurePolicy, 'Fail');
      assert.equal(webhook.sideEffects, 'None');
      assert.deepEqual(webhook.admissionReviewVersions, ['v1']);
      assert.deepEqual(webhook.rules[0].operations, ['CREATE']);
      assert.deepEqual(webhook.rules[0].resources, ['pods']);
      assert.match(
        webhook.matchConditions[0].expression,
        /'sidekey.io\/inject' in object.metadata.annotations/,
      );
      assert.deepEqual(webhook.clientConfig.service, {
        name: service.metadata.name,
        namespace: service.metadata.namespace,
        path: '/mutate',
        port: 443,
      });
      const excluded = webhook.namespaceSelector.matchExpressions.find(
        (e: Json) => e.key === 'kubernetes.io/metadata.name',
      );
      for (const ns of ['kube-system', deployment.metadata.namespace])
        assert.ok(excluded.values.includes(ns), ns);

      // The injector accepts the configuration it is given.
      const container = deployment.spec.template.spec.containers[0];
      const configMap = one(objects, 'ConfigMap');
      assert.equal(container.envFrom[0].configMapRef.name, configMap.metadata.name);
      const env: Record<string, string> = { ...configMap.data };
      for (const e of container.env)
        env[e.name] = e.value ?? (e.valueFrom ? deployment.metadata.namespace : '');
      const config = loadInjectorConfig(env);
      assert.equal(config.image, container.image, 'the injected image is the injector image');
      assert.equal(config.port, container.ports[0].containerPort);
      assert.ok(config.excludedNamespaces.includes(deployment.metadata.namespace));

      // The TLS Secret the injector mounts comes from the overlay.
      const tlsVolume = deployment.spec.template.spec.volumes.find((v: Json) => v.name === 'tls');
      if (dir === 'overlays/manual-tls') {
        const secret = one(objects, 'Secret');
        assert.equal(tlsVolume.secret.secretName, secret.metadata.name);
        assert.equal(secret.type, 'kubernetes.io/tls');
        const caBundle = Buffer.from(webhook.clientConfig.caBundle, 'base64').toString('utf8');
        assert.equal(caBundle, readFileSync(join(work, 'overlays/manual-tls/tls/ca.crt'), 'utf8'));
      } else if (dir !== 'base') {
        const certificate = one(objects, 'Certificate', 'sidekey-injector');
        assert.equal(tlsVolume.secret.secretName, certificate.spec.secretName);
        assert.ok(certificate.spec.dnsNames.includes('sidekey-injector.sidekey-system.svc'));
        const webhookConfig = one(objects, 'MutatingWebhookConfiguration');
        assert.equal(
          webhookConfig.metadata.annotations['cert-manager.io/inject-ca-from'],
          'sidekey-system/sidekey-injector',
        );
      }
      assert.equal(config.mode, dir === 'overlays/classic-mode' ? 'classic' : 'native');
    });
  }
});

describe('deploy/examples', () => {
  const files = readdirSync(join(DEPLOY, 'examples')).filter((f) => f.endsWith('.yaml'));

  it('has an example application pod and a Job', () => {
    assert.deepEqual(files.sort(), ['app-pod.yaml', 'job.yaml']);
  });

  for (const file of files) {
    it(`${file}: schema-valid, and schema-valid once injected in both modes`, async () => {
      const objects = parseYamlDocuments(readFileSync(join(DEPLOY, 'examples', file), 'utf8'));
      for (const o of objects) {
        await assertValidObject(o, `${file}: ${o.kind}`);
        const pod =
          o.kind === 'Pod'
            ? o
            : {
                apiVersion: 'v1',
                kind: 'Pod',
                metadata: o.spec.template.metadata,
                spec: o.spec.template.spec,
              };
        for (const mode of ['native', 'classic'] as const) {
          const config = {
            ...loadInjectorConfig({
              SIDEKEY_INJECTOR_TLS_CERT_FILE: 'unused',
              SIDEKEY_INJECTOR_TLS_KEY_FILE: 'unused',
              SIDEKEY_INJECTOR_IMAGE: 'ghcr.io/sidekey/sidekey:0.1.0',
              SIDEKEY_INJECTOR_KMS: 'aws',
              SIDEKEY_INJECTOR_KMS_KEY_ID: 'alias/sidekey',
              SIDEKEY_INJECTOR_PG_URL: 'postgres://sidekey@postgres.sidekey-db.svc:5432/sidekey',
            }),
            mode,
          };
          const result = mutatePod(pod, config, 'shop');
          if (o.kind === 'Job' && mode === 'classic') {
            assert.equal(result.kind, 'deny', 'classic mode refuses run-to-completion pods');
            continue;
          }
          assert.equal(result.kind, 'patch', JSON.stringify(result));
          if (result.kind === 'patch')
            await assertValidObject(applyPatch(pod, result.patch), `${file} injected (${mode})`);
        }
      }
    });
  }
});
