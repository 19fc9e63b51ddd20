import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InjectorConfigError, loadInjectorConfig } from './config.js';

const BASE = {
  SIDEKEY_INJECTOR_TLS_CERT_FILE: '/tls/tls.crt',
  SIDEKEY_INJECTOR_TLS_KEY_FILE: '/tls/tls.key',
  SIDEKEY_INJECTOR_IMAGE: 'registry.example/sidekey:0.1.0',
};

function error(env: Record<string, string>): string {
  try {
    loadInjectorConfig(env);
  } catch (err) {
    assert.ok(err instanceof InjectorConfigError);
    assert.ok(!err.message.includes('\n'), 'one line');
    return err.message;
  }
  assert.fail('expected an InjectorConfigError');
}

describe('loadInjectorConfig', () => {
  it('has the documented defaults', () => {
    const c = loadInjectorConfig({ ...BASE, SIDEKEY_INJECTOR_NAMESPACE: 'sidekey-system', UNRELATED: 'x' });
    assert.equal(c.port, 8443);
    assert.equal(c.mode, 'native');
    assert.equal(c.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(c.kms, { provider: 'local' });
    assert.equal(c.postgres, undefined);
    assert.deepEqual(c.excludedNamespaces, [
      'kube-system',
      'kube-public',
      'kube-node-lease',
      'sidekey-system',
    ]);
  });

  it('reads the KMS and Postgres settings for the sidecars', () => {
    const c = loadInjectorConfig({
      ...BASE,
      SIDEKEY_INJECTOR_PORT: '9443',
      SIDEKEY_INJECTOR_MODE: 'classic',
      SIDEKEY_INJECTOR_KMS: 'vault',
      SIDEKEY_INJECTOR_KMS_KEY_ID: 'sidekey',
      SIDEKEY_INJECTOR_VAULT_ADDR: 'https://vault:8200',
      SIDEKEY_INJECTOR_PG_URL: 'postgres://sidekey@pg:5432/sidekey',
      SIDEKEY_INJECTOR_PG_TLS_SECRET: 'pg-client',
      SIDEKEY_INJECTOR_EXCLUDE_NAMESPACES: 'a, b',
    });
    assert.equal(c.port, 9443);
    assert.equal(c.mode, 'classic');
    assert.deepEqual(c.kms, {
      provider: 'vault',
      keyId: 'sidekey',
      addr: 'https://vault:8200',
      k8sRole: undefined,
      transitMount: undefined,
    });
    assert.deepEqual(c.postgres, {
      url: 'postgres://sidekey@pg:5432/sidekey',
      defaultTlsSecret: 'pg-client',
    });
    assert.deepEqual(c.excludedNamespaces, ['a', 'b']);
  });

  it('reads operator-wide resource defaults; unset ones stay the built-in ones', () => {
    assert.deepEqual(loadInjectorConfig(BASE).resourceDefaults, {});
    const c = loadInjectorConfig({
      ...BASE,
      SIDEKEY_INJECTOR_CPU_REQUEST: '50m',
      SIDEKEY_INJECTOR_CPU_LIMIT: '1',
      SIDEKEY_INJECTOR_MEMORY_REQUEST: '128Mi',
      SIDEKEY_INJECTOR_MEMORY_LIMIT: '256Mi',
    });
    assert.deepEqual(c.resourceDefaults, {
      cpuRequest: '50m',
      cpuLimit: '1',
      memoryRequest: '128Mi',
      memoryLimit: '256Mi',
    });
  });

  const rows: [Record<string, string>, RegExp][] = [
    [{ ...BASE, SIDEKEY_INJECTOR_IMAGE: '' }, /^SIDEKEY_INJECTOR_IMAGE: is required/],
    [
      { SIDEKEY_INJECTOR_TLS_KEY_FILE: 'k', SIDEKEY_INJECTOR_IMAGE: 'i' },
      /^SIDEKEY_INJECTOR_TLS_CERT_FILE: is required/,
    ],
    [
      { SIDEKEY_INJECTOR_TLS_CERT_FILE: 'c', SIDEKEY_INJECTOR_IMAGE: 'i' },
      /^SIDEKEY_INJECTOR_TLS_KEY_FILE: is required/,
    ],
    [{ ...BASE, SIDEKEY_INJECTOR_IMAGE: 'a b' }, /^SIDEKEY_INJECTOR_IMAGE: must be an image reference/],
    [
      { ...BASE, SIDEKEY_INJECTOR_PORT: 'https' },
      /^SIDEKEY_INJECTOR_PORT: must be a port number \(got "https"\)/,
    ],
    [{ ...BASE, SIDEKEY_INJECTOR_PORT: '70000' }, /^SIDEKEY_INJECTOR_PORT: must be a port number/],
    [{ ...BASE, SIDEKEY_INJECTOR_MODE: 'sidecar' }, /^SIDEKEY_INJECTOR_MODE: must be "native" or "classic"/],
    [
      { ...BASE, SIDEKEY_INJECTOR_IMAGE_PULL_POLICY: 'always' },
      /^SIDEKEY_INJECTOR_IMAGE_PULL_POLICY: must be Always/,
    ],
    [{ ...BASE, SIDEKEY_INJECTOR_KMS: 'gcp' }, /^SIDEKEY_INJECTOR_KMS: must be "local", "aws" or "vault"/],
    [
      { ...BASE, SIDEKEY_INJECTOR_KMS: 'aws' },
      /^SIDEKEY_INJECTOR_KMS_KEY_ID: is required with SIDEKEY_INJECTOR_KMS=aws/,
    ],
    [
      { ...BASE, SIDEKEY_INJECTOR_KMS: 'vault', SIDEKEY_INJECTOR_KMS_KEY_ID: 'k' },
      /^SIDEKEY_INJECTOR_VAULT_ADDR: is required with SIDEKEY_INJECTOR_KMS=vault/,
    ],
    [
      { ...BASE, SIDEKEY_INJECTOR_PG_URL: 'postgres://u:secret@pg/db' },
      /^SIDEKEY_INJECTOR_PG_URL: must not contain a password/,
    ],
    [
      { ...BASE, SIDEKEY_INJECTOR_PG_URL: 'mysql://pg/db' },
      /^SIDEKEY_INJECTOR_PG_URL: must be a postgres:\/\/ URL/,
    ],
    [
      { ...BASE, SIDEKEY_INJECTOR_PG_TLS_SECRET: 'x' },
      /^SIDEKEY_INJECTOR_PG_TLS_SECRET: is only used with SIDEKEY_INJECTOR_PG_URL/,
    ],
    [
      { ...BASE, SIDEKEY_INJECTOR_EXCLUDE_NAMESPACES: 'Kube_System' },
      /^SIDEKEY_INJECTOR_EXCLUDE_NAMESPACES: must be/,
    ],
    [
      { ...BASE, SIDEKEY_INJECTOR_CPU_REQUEST: 'lots' },
      /^SIDEKEY_INJECTOR_CPU_REQUEST: is not a Kubernetes quantity \(examples: 25m.*\(got "lots"\)$/,
    ],
    [{ ...BASE, SIDEKEY_INJECTOR_CPU_LIMIT: '0' }, /^SIDEKEY_INJECTOR_CPU_LIMIT: must be greater than zero/],
    [
      { ...BASE, SIDEKEY_INJECTOR_MEMORY_REQUEST: '128m' },
      /^SIDEKEY_INJECTOR_MEMORY_REQUEST: means 0.128 bytes \(m is milli\); write Mi/,
    ],
    [{ ...BASE, SIDEKEY_INJECTOR_MEMORY_LIMIT: '32Mi' }, /^SIDEKEY_INJECTOR_MEMORY_LIMIT: is below 64Mi/],
    [
      { ...BASE, SIDEKEY_INJECTOR_PG_URL: 'postgres://pg/db', SIDEKEY_INJECTOR_MEMORY_REQUEST: '256Mi' },
      /^SIDEKEY_INJECTOR_MEMORY_REQUEST: the memory request 256Mi is more than the memory limit 192Mi/,
    ],
    [
      { ...BASE, SIDEKEY_INJECTOR_MEMORY_LIMIT: '80Mi' },
      /^SIDEKEY_INJECTOR_MEMORY_LIMIT: the memory request 96Mi is more than the memory limit 80Mi/,
    ],
    [
      { ...BASE, SIDEKEY_INJECTOR_CPU_LIMIT: '10m' },
      /^SIDEKEY_INJECTOR_CPU_LIMIT: the CPU request 25m is more than the CPU limit 10m/,
    ],
  ];
  for (const [env, message] of rows) {
    it(`refuses ${message.source.slice(1, 40)}`, () => assert.match(error(env), message));
  }
});
