/**
 * deploy/monitoring: the alert rules pass `promtool check rules` and their
 * promtool unit tests; the PrometheusRule carries exactly the same groups;
 * every query of the rules and of the Grafana dashboard parses (promtool)
 * and names only metrics that sidekey's real registry exports.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { Metrics } from '../../src/observability/index.js';

const DIR = fileURLToPath(new URL('../../deploy/monitoring/', import.meta.url));
const read = (name: string) => readFileSync(join(DIR, name), 'utf8');
const scratch = mkdtempSync(join(tmpdir(), 'sidekey-monitoring-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
}
const rules = parse(read('sidekey.rules.yaml')) as { groups: { name: string; rules: Rule[] }[] };
// biome-ignore lint/suspicious/noExplicitAny: walks the dashboard JSON
const dashboard = JSON.parse(read('grafana-dashboard.json')) as any;

function promtool(args: string[], cwd = DIR): string {
  try {
    return execFileSync('promtool', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { code?: string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT')
      throw new Error('promtool is not installed (Debian package prometheus; .ci/run installs it)');
    throw new Error(`promtool ${args.join(' ')}: ${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

/** Every series name sidekey exports: the real registry, histograms with their suffixes. */
async function exportedNames(): Promise<Set<string>> {
  // As a sidecar on postgres builds it (src/app.ts): with the fleet metrics.
  const metrics = new Metrics({ queueDepth: () => 0, fleet: true, certificates: {} });
  const names = new Set<string>();
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    names.add(m.name);
    if (String(m.type) === 'histogram')
      for (const s of ['_bucket', '_sum', '_count']) names.add(`${m.name}${s}`);
  }
  return names;
}

const metricNames = (expr: string) => [...new Set(expr.match(/\bsidekey_[a-z0-9_]+/g) ?? [])];

function dashboardQueries(): { panel: string; expr: string }[] {
  // biome-ignore lint/suspicious/noExplicitAny: dashboard JSON
  return (dashboard.panels as any[]).flatMap((p) =>
    // biome-ignore lint/suspicious/noExplicitAny: dashboard JSON
    (p.targets ?? []).map((t: any) => ({ panel: p.title as string, expr: t.expr as string })),
  );
}

describe('alert rules', () => {
  it('pass promtool check rules and their unit tests', () => {
    assert.match(promtool(['check', 'rules', 'sidekey.rules.yaml']), /SUCCESS: \d+ rules found/);
    assert.match(promtool(['test', 'rules', 'sidekey.rules.test.yaml']), /SUCCESS/);
  });

  it('cover what operators must hear of', () => {
    const alerts = rules.groups.flatMap((g) => g.rules.map((r) => r.alert));
    for (const a of [
      'SidekeyKmsErrors',
      'SidekeyStoreUnavailable',
      'SidekeyWriterBacklog',
      'SidekeyLatencyP99High',
      'SidekeyRefusedRequestsSpike',
      'SidekeyCertificateExpiresSoon',
      'SidekeyChangesNotApplied',
      'SidekeyFleetNotificationsDown',
    ])
      assert.ok(alerts.includes(a), `${a} is missing`);
  });

  it('are the same groups in the PrometheusRule', () => {
    const pr = parse(read('prometheusrule.yaml'));
    assert.equal(pr.apiVersion, 'monitoring.coreos.com/v1');
    assert.equal(pr.kind, 'PrometheusRule');
    assert.ok(typeof pr.metadata?.name === 'string' && pr.metadata.name !== '');
    assert.deepEqual(pr.spec.groups, rules.groups);
  });

  it('name only metrics sidekey exports', async () => {
    const exported = await exportedNames();
    for (const r of rules.groups.flatMap((g) => g.rules)) {
      const named = metricNames(r.expr);
      assert.ok(named.length > 0, `${r.alert} names no sidekey metric`);
      for (const n of named) assert.ok(exported.has(n), `${r.alert}: ${n} is not exported by sidekey`);
    }
  });
});

describe('Grafana dashboard', () => {
  it('is a dashboard with a Prometheus data source variable and panels with queries', () => {
    assert.equal(typeof dashboard.title, 'string');
    assert.equal(typeof dashboard.uid, 'string');
    const variables = dashboard.templating.list as { type: string; query: unknown }[];
    assert.ok(variables.some((v) => v.type === 'datasource' && v.query === 'prometheus'));
    assert.ok(dashboardQueries().length >= 10);
  });

  it('queries name only metrics sidekey exports', async () => {
    const exported = await exportedNames();
    for (const q of dashboardQueries()) {
      const named = metricNames(q.expr);
      assert.ok(named.length > 0, `panel "${q.panel}" names no sidekey metric`);
      for (const n of named)
        assert.ok(exported.has(n), `panel "${q.panel}": ${n} is not exported by sidekey`);
    }
  });

  it('queries parse as PromQL (promtool, variables filled in)', () => {
    const record = dashboardQueries().map((q, i) => ({
      record: `sidekey:dashboard_query_${i}`,
      expr: q.expr.replaceAll('$namespace', '.*').replaceAll('$pod', '.*'),
    }));
    const file = join(scratch, 'dashboard-queries.yaml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules: record }] }));
    assert.match(
      promtool(['check', 'rules', file], scratch),
      new RegExp(`SUCCESS: ${record.length} rules found`),
    );
  });
});
