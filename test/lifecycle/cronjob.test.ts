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

/**
 * The one CronJob of `file`, checked as every operator CronJob must be:
 * schema-valid, one run at a time, the operator role and its certificate
 * Secret, a read-only root file system. Returns its container's args.
 */
async function operatorCronJob(file: string): Promise<string[]> {
  const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS());
  assert.equal(docs.length, 1);
  const cron = docs[0];
  await assertValidObject(cron, file);
  assert.equal(cron.kind, 'CronJob');
  assert.equal(cron.spec.concurrencyPolicy, 'Forbid');
  const pod = cron.spec.jobTemplate.spec.template.spec;
  const container = pod.containers[0];
  const env = Object.fromEntries(
    container.env.map((e: { name: string; value: string }) => [e.name, e.value]),
  );
  assert.match(env.SIDEKEY_PG_URL, /^postgres:\/\/sidekey_ops@/, 'the operator role, not the sidecar role');
  const secret = pod.volumes.find((v: { secret?: unknown }) => v.secret).secret.secretName;
  assert.equal(secret, 'sidekey-postgres-ops');
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  return container.args;
}

describe('operator CronJob examples', () => {
  it('TEK rotation: a schema-valid CronJob running rotate tek --all --if-older-than 90d as the operator', async () => {
    const args = await operatorCronJob(FILE);
    assert.deepEqual(args, ['rotate', 'tek', '--all', '--if-older-than', '90d']);
    const parsed = parse(args.slice(1));
    assert.deepEqual(parsed.positionals, ['tek']);
    assert.equal(parsed.values['if-older-than'], '90d');
  });

  it('purge-expired: a schema-valid CronJob running tokens purge-expired --json as the operator', async () => {
    const args = await operatorCronJob(PURGE_FILE);
    assert.deepEqual(args, ['tokens', 'purge-expired', '--batch-size', '1000', '--json']);
    const parsed = parse(args.slice(1));
    assert.deepEqual(parsed.positionals, ['purge-expired']);
    assert.equal(parsed.values['batch-size'], '1000');
    assert.equal(parsed.values.json, true);
  });
});

describe('audit retention CronJob example (issue 19)', () => {
  const RETENTION_FILE = fileURLToPath(
    new URL('../../deploy/kustomize/examples/audit-retention-cronjob.yaml', import.meta.url),
  );

  it('exports (init container) then prunes, as the operator, each command accepted by the CLI', async () => {
    const docs = parseAllDocuments(readFileSync(RETENTION_FILE, 'utf8')).map((d) => d.toJS());
    assert.equal(docs.length, 1);
    const cron = docs[0];
    await assertValidObject(cron, RETENTION_FILE);
    assert.equal(cron.kind, 'CronJob');
    assert.equal(cron.spec.concurrencyPolicy, 'Forbid');
    const pod = cron.spec.jobTemplate.spec.template.spec;
    const [exporter] = pod.initContainers;
    const [pruner] = pod.containers;
    assert.deepEqual(exporter.args.slice(0, 4), ['audit', 'export', '--until', '30d']);
    assert.match(exporter.args[5], /^\/archive\/audit-\$\(POD_NAME\)\.jsonl\.gz$/, 'one gzip file per run');
    assert.deepEqual(pruner.args, ['audit', 'prune', '--until', '30d', '--yes', '--json']);
    for (const c of [exporter, pruner]) {
      const parsed = parse(c.args.slice(1));
      assert.equal(parsed.values.until, '30d');
      const env = Object.fromEntries(
        c.env
          .filter((e: { value?: string }) => e.value)
          .map((e: { name: string; value: string }) => [e.name, e.value]),
      );
      assert.match(env.SIDEKEY_PG_URL, /^postgres:\/\/sidekey_ops@/, 'the operator role');
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.ok(c.volumeMounts.some((m: { mountPath: string }) => m.mountPath === '/archive'));
    }
    assert.equal(
      pod.volumes.find((v: { persistentVolumeClaim?: unknown }) => v.persistentVolumeClaim)
        .persistentVolumeClaim.claimName,
      'sidekey-audit-archive',
    );
  });
});
