/**
 * The footprint rows (bench/footprint.ts) as text: PASS / MISS lines for the
 * terminal and the "Footprint per pod" section of docs/performance.md, in
 * Dapr's terms (added p50/p99, mCPU, MB at 1,000 QPS).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import type { FootprintResults, FootprintRow, FootprintRun } from '../footprint.js';

export const f1 = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(1));
export const f2 = (v: number | undefined) => (v === undefined ? '–' : v.toFixed(2));
export const signed = (v: number) => `${v < 0 ? '−' : '+'}${Math.abs(v).toFixed(2)}`;

/**
 * Steady RSS split into what is this process's own (anonymous: heap, stacks,
 * buffers) and what are pages of mapped files — the node binary's code above
 * all, shared by every process that maps the same file (every sidekey
 * container of one image on a node, through the image layer's page cache).
 * Empty for results written before the split was recorded.
 */
export function memorySplit(run: FootprintRun): string {
  const { steadyAnon, steadyFile } = run.rssMiB;
  if (steadyAnon === undefined || steadyFile === undefined) return '';
  return `${f1(steadyAnon)} MiB anonymous, private to the process; ${f1(steadyFile)} MiB file-backed, mostly node's own code, shared with every process mapping the same binary`;
}

/** PASS / MISS lines for the terminal. */
export function footprintBudgetsText(r: FootprintResults): string {
  const w = Math.max(...r.budgets.map((b) => b.name.length));
  return r.budgets
    .map(
      (b) =>
        `${b.pass === undefined ? 'n/a ' : b.pass ? 'PASS' : 'MISS'}  ${b.name.padEnd(w)}  ${b.measured}  (budget: ${b.rule})`,
    )
    .join('\n');
}

const esc = (s: string) => s.replaceAll('|', '\\|');
const md = (head: readonly string[], rows: readonly (readonly string[])[], numeric = true) =>
  [
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map((_, i) => (i > 0 && numeric ? '--:' : '---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ].join('\n');

export const FOOTPRINT_START = '<!-- footprint:start -->';
export const FOOTPRINT_END = '<!-- footprint:end -->';

/** The footprint section of docs/performance.md, between its markers. */
export function footprintMarkdown(r: FootprintResults, measuredAt: string, commit: string): string {
  const out: string[] = [FOOTPRINT_START, '## Footprint per pod (issue 15), in Dapr’s terms', ''];
  out.push(
    `Measured ${measuredAt} on ${commit}, ${r.windowSeconds} s windows after ${r.warmupSeconds} s warm-ups. ` +
      `Paced open loop (one request due every ${1000 / r.rate} ms, latency from the due time), one fresh sidekey per runtime started as the image starts it ` +
      `(${r.imageNodeFlags.length === 0 ? 'no node flags' : `the node flags of its ENTRYPOINT, \`${r.imageNodeFlags.join(' ')}\``}) and **without the injector's heap limit** ` +
      '(NODE_OPTIONS empty) and with its default settings (each reveal’s audit event written to the audit spool, synced every 10 ms: ADR-20), the floors at the same pace on the same runtime. **added p50/p99**: sidekey minus the floor of its transport ' +
      '(bare hono + AES-GCM for HTTP, bare grpc-js echo for gRPC); **mCPU**: user+system CPU of the sidekey process from /proc over the window; ' +
      '**MB**: steady RSS after all the rows (MiB). A row whose "req/s done" is below the pace did not keep up: the machine was saturated, and its latency (from the due time) measures the queue, not sidekey. Dapr v1.17 publishes, at 1,000 QPS: p99 +0.66 ms (gRPC) / +0.98 ms (HTTP), ' +
      '142 / 57 mCPU, about 50 MB. The machine has 2 cores shared with the load generator and PostgreSQL (and, for these runs, other work: the load average is given).',
  );
  out.push('');
  for (const run of r.runs) {
    const floorOf = (t: FootprintRow['transport'], rate: number) =>
      run.rows.find((x) => x.kind === 'floor' && x.transport === t && x.rate === rate) ??
      run.rows.find((x) => x.kind === 'floor' && x.transport === t);
    out.push(
      `### ${run.node} (load average at start ${run.loadAverage.map((v) => v.toFixed(2)).join(' ')})`,
      '',
    );
    const rows = run.rows
      .filter((x) => x.kind === 'sidekey')
      .map((x) => {
        const f = floorOf(x.transport, x.rate);
        const l = x.measurement.latencyMs;
        const fl = f?.measurement.latencyMs;
        return [
          `${x.transport} ${x.operation}`,
          Math.round(x.measurement.requestsPerSecond).toLocaleString('en-US'),
          f2(l.p50),
          f2(l.p99),
          fl === undefined ? '–' : signed(l.p50 - fl.p50),
          fl === undefined ? '–' : signed(l.p99 - fl.p99),
          f1(x.mCpu),
          f1(f?.mCpu),
          f === undefined || !x.mCpu || !f.mCpu ? '–' : `${f2(x.mCpu / f.mCpu)}×`,
          f1(x.measurement.peakRssMiB),
          String(x.measurement.errors),
        ];
      });
    out.push(
      md(
        [
          'operation',
          'req/s done',
          'p50 ms',
          'p99 ms',
          'added p50',
          'added p99',
          'mCPU',
          'floor mCPU',
          'CPU ratio',
          'RSS MiB (peak in window)',
          'errors',
        ],
        rows,
      ),
    );
    out.push('');
    const floors = run.rows
      .filter((x) => x.kind === 'floor')
      .map(
        (x) =>
          `${x.transport} ${x.operation} @ ${x.rate}: p50 ${f2(x.measurement.latencyMs.p50)} ms, p99 ${f2(x.measurement.latencyMs.p99)} ms, ${f1(x.mCpu)} mCPU`,
      );
    out.push(`Floors: ${floors.join('; ')}.`, '');
    const split = memorySplit(run);
    out.push(
      `Memory without NODE_OPTIONS: idle after start ${f1(run.rssMiB.idle)} MiB, after the HTTP rows ${f1(run.rssMiB.afterHttp)} MiB, **steady after load ${f1(run.rssMiB.steady)} MiB**${split === '' ? '' : ` (${split})`}, **peak (VmHWM) ${f1(run.rssMiB.peak)} MiB**.`,
      '',
    );
  }
  out.push('Budgets (issue 15; ratios to the floors of the same run):', '');
  out.push(
    md(
      ['budget', 'rule', 'measured', 'result'],
      r.budgets.map((b) => [
        b.name,
        b.rule,
        b.measured,
        b.pass === undefined ? 'n/a' : b.pass ? 'PASS' : 'MISS',
      ]),
      false,
    ),
  );
  out.push('');
  for (const n of r.notes) out.push(`- ${n}`);
  if (r.notes.length > 0) out.push('');
  for (const p of r.profiles ?? []) {
    out.push(
      `CPU profile of HTTP ${p.operation} at ${r.rate} req/s (\`node --cpu-prof\`, ${r.runs[0]?.node ?? ''}, measured window: ` +
        `${p.busyMs} ms busy of ${p.totalMs} ms; \`${p.file.replace(/^.*\/bench\//, 'bench/')}\`, not committed). Self time, % of busy time:`,
      '',
    );
    out.push(
      md(
        ['function', 'self ms', '%'],
        p.topSelf.map((e) => [e.name, e.ms.toFixed(1), e.percent.toFixed(1)]),
      ),
    );
    out.push('');
    out.push(
      md(
        ['file or package', 'self ms', '%'],
        p.topSelfByFile.map((e) => [e.name, e.ms.toFixed(1), e.percent.toFixed(1)]),
      ),
    );
    out.push('');
  }
  out.push(
    'Alone: `npm run bench -- --footprint [--quick]` (rewrites this section only).',
    '',
    FOOTPRINT_END,
  );
  return out.join('\n');
}

/** Replaces (or appends) the footprint section of `doc`. */
export function spliceFootprint(doc: string, section: string): string {
  const a = doc.indexOf(FOOTPRINT_START);
  const b = doc.indexOf(FOOTPRINT_END);
  if (a >= 0 && b > a) return `${doc.slice(0, a)}${section}${doc.slice(b + FOOTPRINT_END.length)}`;
  return `${doc.trimEnd()}\n\n${section}\n`;
}

export function writeFootprintDoc(docPath: string, section: string): void {
  writeFileSync(docPath, spliceFootprint(readFileSync(docPath, 'utf8'), section));
}
