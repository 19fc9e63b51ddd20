/**
 * deploy/kustomize/examples/tek-rotation-cronjob.yaml and
 * purge-expired-cronjob.yaml are valid Kubernetes CronJobs (schema and
 * unknown fields, as `kubectl --validate=strict`) that run the commands of
 * docs/operations.md (scheduled rotation, token expiry), and the command
 * lines they run are ones the CLI accepts.
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
const PURGE_FILE = fileURLToPath(
  new URL('../../deploy/kustomize/examples/purge-expired-cronjob.yaml', import.meta.url),
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

  it('purge-expired: a schema-valid CronJob running tokens purge-expired as the operator, one at a time', async () => {
    const docs = parseAllDocuments(readFileSync(PURGE_FILE, 'utf8')).map((d) => d.toJS());
    assert.equal(docs.length, 1);
    const cron = docs[0];
    await assertValidObject(cron, 'purge-expired-cronjob.yaml');
    assert.equal(cron.kind, 'CronJob');
    assert.equal(cron.spec.concurrencyPolicy, 'Forbid');
    const pod = cron.spec.jobTemplate.spec.template.spec;
    const container = pod.containers[0];
    assert.deepEqual(container.args, ['tokens', 'purge-expired', '--batch-size', '1000', '--json']);
    const parsed = parse(container.args.slice(1));
    assert.deepEqual(parsed.positionals, ['purge-expired']);
    assert.equal(parsed.values['batch-size'], '1000');
    assert.equal(parsed.values.json, true);
    const env = Object.fromEntries(
      container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
    );
    assert.match(env.SIDEKEY_PG_URL, /^postgres:\/\/sidekey_ops@/, 'the operator role, not the sidecar role');
    assert.equal(
      pod.volumes.find((v: { secret?: unknown }) => v.secret).secret.secretName,
      'sidekey-postgres-ops',
    );
    assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  });
});
