/**
 * The injector as the API server sees it: runInjector() from its environment,
 * a real HTTPS listener whose certificate is verified against its CA (the
 * webhook's caBundle), and a real AdmissionReview as kube-apiserver sends it.
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type InjectorHandle, runInjector, startInjectorServer } from '../../k8s-sidecar/index.js';
import { until } from '../support/wait.js';
import { applyPatch, type Operation } from './support/json-patch.js';
import { assertValidObject } from './support/k8s-schema.js';
import { makeTestPki, type TestPki } from './support/tls.js';

// biome-ignore lint/suspicious/noExplicitAny: test code walks untyped JSON
type Json = any;

const REVIEW: Json = JSON.parse(
  readFileSync(new URL('./fixtures/admission-review.json', import.meta.url), 'utf8'),
);

interface Reply {
  readonly status: number;
  readonly headers: Record<string, unknown>;
  readonly body: string;
}

function call(
  port: number,
  ca: string,
  method: string,
  path: string,
  body?: string,
  contentType = 'application/json',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        ca,
        servername: 'sidekey-injector.sidekey-system.svc',
        agent: false,
        headers:
          body === undefined
            ? {}
            : { 'content-type': contentType, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

function reviewWith(mutate: (review: Json) => void): string {
  const review = structuredClone(REVIEW);
  mutate(review);
  return JSON.stringify(review);
}

const DNS = ['sidekey-injector.sidekey-system.svc', 'localhost', '127.0.0.1'];
let dir: string;
let pki: TestPki;
let injector: InjectorHandle;
const logs: string[] = [];

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sidekey-injector-'));
  pki = makeTestPki(DNS);
  writeFileSync(join(dir, 'tls.crt'), pki.cert);
  writeFileSync(join(dir, 'tls.key'), pki.key);
  injector = await runInjector(
    {
      SIDEKEY_INJECTOR_PORT: '0',
      SIDEKEY_INJECTOR_TLS_CERT_FILE: join(dir, 'tls.crt'),
      SIDEKEY_INJECTOR_TLS_KEY_FILE: join(dir, 'tls.key'),
      SIDEKEY_INJECTOR_IMAGE: 'registry.example/sidekey:0.1.0',
      SIDEKEY_INJECTOR_NAMESPACE: 'sidekey-system',
      SIDEKEY_INJECTOR_KMS: 'aws',
      SIDEKEY_INJECTOR_KMS_KEY_ID: 'alias/sidekey',
      SIDEKEY_INJECTOR_PG_URL: 'postgres://sidekey@pg.db.svc:5432/sidekey',
      SIDEKEY_INJECTOR_PG_TLS_SECRET: 'sidekey-postgres-client',
    },
    (msg) => logs.push(msg),
  );
});

after(async () => {
  await injector?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the webhook over HTTPS', () => {
  it('answers GET /healthz with 200', async () => {
    const r = await call(injector.port, pki.caCert, 'GET', '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { status: 'ok' });
  });

  it('exports its serving certificate expiry on GET /metrics', async () => {
    const r = await call(injector.port, pki.caCert, 'GET', '/metrics');
    assert.equal(r.status, 200);
    const m = /^sidekey_certificate_expiry_timestamp_seconds\{certificate="injector_serving"\} (\d+)$/m.exec(
      r.body,
    );
    assert.ok(m, r.body);
    const notAfter = new X509Certificate(pki.cert).validTo;
    assert.equal(Number(m[1]), Math.floor(new Date(notAfter).getTime() / 1000));
  });

  it('injects a pod: same uid, base64 JSON Patch that yields a valid Pod', async () => {
    const r = await call(injector.port, pki.caCert, 'POST', '/mutate', JSON.stringify(REVIEW));
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^application\/json/);
    const answer = JSON.parse(r.body);
    assert.equal(answer.apiVersion, 'admission.k8s.io/v1');
    assert.equal(answer.kind, 'AdmissionReview');
    assert.equal(answer.response.uid, REVIEW.request.uid);
    assert.equal(answer.response.allowed, true);
    assert.equal(answer.response.patchType, 'JSONPatch');
    const patch: Operation[] = JSON.parse(Buffer.from(answer.response.patch, 'base64').toString('utf8'));
    const pod = applyPatch(REVIEW.request.object, patch);
    // The API server sets creationTimestamp itself after admission; it arrives as null.
    delete pod.metadata.creationTimestamp;
    await assertValidObject(pod, 'the injected pod');
    assert.equal(pod.metadata.annotations['sidekey.io/status'], 'injected');
    const sidekey = pod.spec.initContainers.find((c: Json) => c.name === 'sidekey');
    assert.equal(sidekey.restartPolicy, 'Always');
    assert.equal(sidekey.image, 'registry.example/sidekey:0.1.0');
    const sidecarEnv = Object.fromEntries(sidekey.env.map((e: Json) => [e.name, e.value]));
    assert.equal(sidecarEnv.SIDEKEY_TENANTS, 'acme');
    assert.equal(sidecarEnv.SIDEKEY_KMS, 'aws');
    const app = pod.spec.containers[0];
    assert.deepEqual(
      app.env.filter((e: Json) => e.name.startsWith('SIDEKEY_')),
      [
        { name: 'SIDEKEY_URL', value: 'http://127.0.0.1:7600' },
        { name: 'SIDEKEY_GRPC_SOCKET', value: '/run/sidekey/sidekey.sock' },
      ],
    );
    assert.ok(app.volumeMounts.some((m: Json) => m.mountPath === '/run/sidekey' && m.name === 'sidekey-run'));
    assert.ok(logs.some((l) => l.includes('injected pod shop/checkout-6f7c9d8b77-*')));
  });

  it('denies a pod with an invalid annotation, naming it', async () => {
    const body = reviewWith((r) => {
      r.request.object.metadata.annotations['sidekey.io/memory-limit'] = '512MB';
    });
    const answer = JSON.parse((await call(injector.port, pki.caCert, 'POST', '/mutate', body)).body);
    assert.equal(answer.response.uid, REVIEW.request.uid);
    assert.equal(answer.response.allowed, false);
    assert.equal(answer.response.patch, undefined);
    assert.equal(answer.response.status.code, 400);
    assert.match(
      answer.response.status.message,
      /sidekey.io\/memory-limit: "512MB" is not a Kubernetes quantity/,
    );
  });

  it('allows without a patch: no annotation, already injected, other operations and kinds', async () => {
    const cases = [
      reviewWith((r) => {
        delete r.request.object.metadata.annotations;
      }),
      reviewWith((r) => {
        r.request.object.metadata.annotations['sidekey.io/status'] = 'injected';
      }),
      reviewWith((r) => {
        r.request.operation = 'UPDATE';
      }),
      reviewWith((r) => {
        r.request.kind = { group: 'apps', version: 'v1', kind: 'Deployment' };
      }),
      reviewWith((r) => {
        r.request.namespace = 'sidekey-system';
      }),
    ];
    for (const body of cases) {
      const answer = JSON.parse((await call(injector.port, pki.caCert, 'POST', '/mutate', body)).body);
      assert.deepEqual(answer.response, { uid: REVIEW.request.uid, allowed: true });
    }
  });

  it('refuses what is not an AdmissionReview request', async () => {
    const port = injector.port;
    assert.equal((await call(port, pki.caCert, 'POST', '/mutate', '{not json')).status, 400);
    assert.equal((await call(port, pki.caCert, 'POST', '/mutate', '{"kind":"Pod"}')).status, 400);
    const v1beta1 = reviewWith((r) => {
      r.apiVersion = 'admission.k8s.io/v1beta1';
    });
    assert.equal((await call(port, pki.caCert, 'POST', '/mutate', v1beta1)).status, 400);
    const noUid = reviewWith((r) => {
      delete r.request.uid;
    });
    assert.equal((await call(port, pki.caCert, 'POST', '/mutate', noUid)).status, 400);
    assert.equal((await call(port, pki.caCert, 'POST', '/mutate', '{}', 'text/plain')).status, 415);
    assert.equal((await call(port, pki.caCert, 'GET', '/mutate')).status, 405);
    assert.equal((await call(port, pki.caCert, 'GET', '/')).status, 404);
    const huge = JSON.stringify({ pad: 'x'.repeat(5 * 1024 * 1024) });
    const tooLarge = await call(port, pki.caCert, 'POST', '/mutate', huge).catch((e: Error) => e);
    assert.ok(!(tooLarge instanceof Error), String(tooLarge));
    assert.equal(tooLarge.status, 413);
  });

  it('is refused by a client that trusts another CA', async () => {
    const other = makeTestPki(DNS);
    await assert.rejects(
      call(injector.port, other.caCert, 'GET', '/healthz'),
      /self-signed|unable to verify|certificate/i,
    );
  });
});

describe('runInjector refuses a bad environment with one line naming the variable', () => {
  const env = () => ({
    SIDEKEY_INJECTOR_PORT: '0',
    SIDEKEY_INJECTOR_TLS_CERT_FILE: join(dir, 'tls.crt'),
    SIDEKEY_INJECTOR_TLS_KEY_FILE: join(dir, 'tls.key'),
    SIDEKEY_INJECTOR_IMAGE: 'registry.example/sidekey:0.1.0',
  });
  it('missing image', async () => {
    const { SIDEKEY_INJECTOR_IMAGE: _, ...rest } = env();
    await assert.rejects(
      runInjector(rest, () => {}),
      /^InjectorConfigError: SIDEKEY_INJECTOR_IMAGE: is required$/,
    );
  });
  it('unreadable certificate', async () => {
    await assert.rejects(
      runInjector({ ...env(), SIDEKEY_INJECTOR_TLS_CERT_FILE: join(dir, 'missing.crt') }, () => {}),
      /^InjectorConfigError: SIDEKEY_INJECTOR_TLS_CERT_FILE: cannot read .*missing.crt \(ENOENT\)$/,
    );
  });
  it('a key that does not belong to the certificate', async () => {
    const other = makeTestPki(DNS);
    writeFileSync(join(dir, 'other.key'), other.key);
    await assert.rejects(
      runInjector({ ...env(), SIDEKEY_INJECTOR_TLS_KEY_FILE: join(dir, 'other.key') }, () => {}),
      /^InjectorConfigError: SIDEKEY_INJECTOR_TLS_KEY_FILE: .*is not the PEM private key of/,
    );
  });
  it('a port in use', async () => {
    await assert.rejects(
      runInjector({ ...env(), SIDEKEY_INJECTOR_PORT: String(injector.port) }, () => {}),
      /^InjectorConfigError: SIDEKEY_INJECTOR_PORT: cannot listen on port \d+ \(EADDRINUSE\)$/,
    );
  });
});

describe('certificate renewal', () => {
  it('serves a renewed certificate without a restart, and keeps the old one during a half-written renewal', async () => {
    const certDir = mkdtempSync(join(tmpdir(), 'sidekey-injector-renew-'));
    const first = makeTestPki(DNS);
    const second = makeTestPki(DNS);
    writeFileSync(join(certDir, 'tls.crt'), first.cert);
    writeFileSync(join(certDir, 'tls.key'), first.key);
    const messages: string[] = [];
    const server = await startInjectorServer({
      port: 0,
      host: '127.0.0.1',
      tlsCertFile: join(certDir, 'tls.crt'),
      tlsKeyFile: join(certDir, 'tls.key'),
      config: injector.config,
      log: (m) => messages.push(m),
      tlsReloadIntervalMs: 50,
    });
    try {
      assert.equal((await call(server.port, first.caCert, 'GET', '/healthz')).status, 200);
      // Certificate replaced, key not yet: the pair does not match, the old one stays in use.
      writeFileSync(join(certDir, 'tls.crt'), second.cert);
      await until('the half-written renewal to be seen', () =>
        messages.some((m) => m.includes('keeping the current TLS certificate')),
      );
      assert.equal((await call(server.port, first.caCert, 'GET', '/healthz')).status, 200);
      writeFileSync(join(certDir, 'tls.key'), second.key);
      await until('the renewed pair to be loaded', () =>
        messages.includes('injector: loaded a new TLS certificate'),
      );
      assert.equal((await call(server.port, second.caCert, 'GET', '/healthz')).status, 200);
      await assert.rejects(call(server.port, first.caCert, 'GET', '/healthz'));
    } finally {
      await server.close();
      rmSync(certDir, { recursive: true, force: true });
    }
  });
});
