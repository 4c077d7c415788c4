/**
 * The result table printed at the end of a run: one row per system, then the Mailroom ÷ BullMQ
 * ratios, then scenario-specific numbers. Pure string formatting, so it is unit-tested.
 */
import type { BenchReport, Ratio, SystemResult } from './result.js';

export function fmtMs(ms: number): string {
  if (ms === 0) return '0';
  if (ms >= 10_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(0)} µs`;
}

export function fmtRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)}M/s`;
  if (perSecond >= 1e4) return `${(perSecond / 1e3).toFixed(1)}k/s`;
  return `${perSecond.toFixed(0)}/s`;
}

export function fmtPct(pct: number | undefined): string {
  return pct === undefined ? '-' : `${pct.toFixed(0)}%`;
}

export function fmtRatio(ratio: Ratio): string {
  if (!Number.isFinite(ratio.value)) return 'n/a';
  return `${ratio.value.toFixed(2)}  (${ratioVerdict(ratio)})`;
}

/** Who the ratio favours and by how much, in words. */
export function ratioVerdict(ratio: Ratio): string {
  if (!Number.isFinite(ratio.value)) return 'n/a';
  if (Math.abs(ratio.value - 1) < 0.05) return 'even';
  const mailroomBetter = ratio.higherIsBetter ? ratio.value > 1 : ratio.value < 1;
  const factor = ratio.value >= 1 ? ratio.value : 1 / ratio.value;
  return `${mailroomBetter ? 'Mailroom' : 'BullMQ'} ${factor.toFixed(2)}× better`;
}

/** Aligns cells: the `left` columns (the first, by default) left, the rest right. */
export function alignTable(rows: string[][], left: readonly number[] = [0]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, [...cell].length);
  }
  const pad = (cell: string, i: number) => {
    const fill = ' '.repeat(widths[i]! - [...cell].length);
    return left.includes(i) ? cell + fill : fill + cell;
  };
  const lines = rows.map((row) => row.map(pad).join('  ').trimEnd());
  lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return lines.join('\n');
}

const HEADER = [
  'system',
  'mode',
  'ok',
  'throughput',
  'p50',
  'p90',
  'p99',
  'p99.9',
  'max',
  'errors',
  'gen CPU',
  'server CPU',
  'redis CPU',
];

function mode(r: SystemResult): string {
  return r.mode === 'open' ? `open ${r.rate}/s${r.spin ? ' spin' : ''}` : `closed ×${r.concurrency}`;
}

export function resultRow(r: SystemResult): string[] {
  const l = r.latency;
  return [
    r.system,
    mode(r),
    String(r.ok),
    fmtRate(r.throughput),
    fmtMs(l.p50),
    fmtMs(l.p90),
    fmtMs(l.p99),
    fmtMs(l.p999),
    fmtMs(l.max),
    String(r.errors),
    fmtPct(r.cpu.generator),
    fmtPct(r.cpu.server),
    fmtPct(r.cpu.redis),
  ];
}

/** The whole printout of a run. */
export function renderReport(report: BenchReport): string {
  const out: string[] = [];
  const measures = [...new Set(report.results.map((r) => r.measure))];
  out.push(`${report.scenario}: ${report.description}`);
  out.push(`latency: ${measures.join('; ')} (coordinated-omission corrected; CPU in % of one core)`);
  out.push('');
  out.push(alignTable([HEADER, ...report.results.map(resultRow)]));
  if (report.ratios.length > 0) {
    out.push('');
    out.push('Mailroom ÷ BullMQ (throughput: higher is better for Mailroom; latency: lower is)');
    const rows = report.ratios.map((r) => [
      r.label,
      Number.isFinite(r.value) ? r.value.toFixed(2) : 'n/a',
      ratioVerdict(r),
    ]);
    out.push(alignTable([['ratio', 'value', ''], ...rows], [0, 2]));
  }
  const extras = report.results.filter((r) => Object.keys(r.extra).length > 0);
  if (extras.length > 0) {
    const keys = [...new Set(extras.flatMap((r) => Object.keys(r.extra)))];
    out.push('');
    out.push(
      alignTable([
        ['', ...extras.map((r) => r.system)],
        ...keys.map((k) => [k, ...extras.map((r) => fmtExtra(r.extra[k]))]),
      ]),
    );
  }
  const errors = report.results.filter((r) => r.errors > 0);
  for (const r of errors) {
    const kinds = Object.entries(r.errorKinds)
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ×${n}`)
      .join(', ');
    out.push(`${r.system} errors: ${kinds}`);
  }
  for (const note of report.notes) out.push(`note: ${note}`);
  return out.join('\n');
}

function fmtExtra(value: number | string | undefined): string {
  if (value === undefined) return '-';
  if (typeof value === 'string') return value;
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
