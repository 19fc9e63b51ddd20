/**
 * deploy/kustomize/examples/tek-rotation-cronjob.yaml is a valid Kubernetes
 * CronJob (schema and unknown fields, as `kubectl --validate=strict`) that
 * runs the scheduled-rotation command of docs/operations.md, and the
 * command line it runs is one the CLI accepts.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { parse } from '../../src/cli/args.js';
import { assertValidObject } from '../k8s/support/k8s-schema.js';

const FILE = fileURLToPath(
  new URL('../../deploy/kustomize/examples/tek-rotation-cronjob.yaml', import.meta.url),
);

describe('TEK rotation CronJob example', () => {
  it('is a schema-valid CronJob running rotate tek --all --if-older-than 90d as the operator', async () => {
    const docs = parseAllDocuments(readFileSync(FILE, 'utf8')).map((d) => d.toJS());
    assert.equal(docs.length, 1);
    const cron = docs[0];
    await assertValidObject(cron, 'tek-rotation-cronjob.yaml');
    assert.equal(cron.kind, 'CronJob');
    assert.equal(cron.spec.concurrencyPolicy, 'Forbid');
    const pod = cron.spec.jobTemplate.spec.template.spec;
    const container = pod.containers[0];
    assert.deepEqual(container.args, ['rotate', 'tek', '--all', '--if-older-than', '90d']);
    const parsed = parse(container.args.slice(1));
    assert.deepEqual(parsed.positionals, ['tek']);
    assert.equal(parsed.values['if-older-than'], '90d');
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    assert.match(env.SIDEKEY_PG_URL, /^postgres:\/\/sidekey_ops@/, 'the operator role, not the sidecar role');
    const secret = pod.volumes.find((v: { secret?: unknown }) => v.secret).secret.secretName;
    assert.equal(secret, 'sidekey-postgres-ops');
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  });
});
