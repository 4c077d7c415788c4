/**
 * Writes a run's report as JSON and as one self-contained HTML file (inline CSS and SVG, no
 * scripts, no external fetches) with the latency percentile curve on HdrHistogram's "number of
 * nines" axis, throughput over time, and the numbers table. renderHtml is pure, for the tests.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CurvePoint } from './histogram.js';
import type { BenchReport, SystemResult } from './result.js';
import { fmtMs, fmtPct, fmtRate, fmtRatio } from './table.js';

const COLORS: Record<string, string> = {
  mailroom: '#1f6feb',
  bullmq: '#d1242f',
  // mixed-payload's variants: small submits in full colour, large ones lighter.
  baseline: '#57606a',
  pool: '#1f6feb',
  'pool large': '#79b8ff',
  'no-pool': '#d1242f',
  'no-pool large': '#ff9492',
};
const W = 720;
const H = 300;
const M = { left: 64, right: 36, top: 16, bottom: 40 };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** x position for a percentile: log10(1 / (1 − p)), so 90 %, 99 %, 99.9 % are evenly spaced. */
export function nines(percentile: number): number {
  return Math.log10(1 / Math.max(1e-7, 1 - percentile / 100));
}

function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (value <= step * magnitude) return step * magnitude;
  return 10 * magnitude;
}

function axes(
  xTicks: Array<[number, string]>,
  yTicks: Array<[number, string]>,
  xLabel: string,
  yLabel: string,
): string {
  const parts: string[] = [];
  const x0 = M.left;
  const y0 = H - M.bottom;
  parts.push(`<line x1="${x0}" y1="${y0}" x2="${W - M.right}" y2="${y0}" stroke="#888"/>`);
  parts.push(`<line x1="${x0}" y1="${M.top}" x2="${x0}" y2="${y0}" stroke="#888"/>`);
  for (const [x, label] of xTicks) {
    parts.push(`<line x1="${x}" y1="${M.top}" x2="${x}" y2="${y0}" stroke="#eee"/>`);
    parts.push(`<text x="${x}" y="${y0 + 16}" text-anchor="middle">${escapeHtml(label)}</text>`);
  }
  for (const [y, label] of yTicks) {
    parts.push(`<line x1="${x0}" y1="${y}" x2="${W - M.right}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${escapeHtml(label)}</text>`);
  }
  parts.push(
    `<text x="${(x0 + W - M.right) / 2}" y="${H - 6}" text-anchor="middle">${escapeHtml(xLabel)}</text>`,
  );
  parts.push(
    `<text x="14" y="${(M.top + y0) / 2}" transform="rotate(-90 14 ${(M.top + y0) / 2})" text-anchor="middle">${escapeHtml(yLabel)}</text>`,
  );
  return parts.join('');
}

function legend(results: SystemResult[]): string {
  return results
    .map((r, i) => {
      const x = M.left + 12 + i * 120;
      const color = COLORS[r.system] ?? '#555';
      return `<rect x="${x}" y="${M.top + 4}" width="12" height="4" fill="${color}"/><text x="${x + 16}" y="${M.top + 10}">${escapeHtml(r.system)}</text>`;
    })
    .join('');
}

/** The latency-by-percentile SVG (one polyline per system). */
export function percentileSvg(results: SystemResult[]): string {
  const curves = results.filter((r) => r.curve.length > 0);
  const maxNines = Math.max(
    1,
    ...curves.flatMap((r) => r.curve.filter((p) => p.percentile < 100).map((p) => nines(p.percentile))),
  );
  const xMaxNines = Math.ceil(maxNines);
  const yMax = niceMax(Math.max(0, ...curves.flatMap((r) => r.curve.map((p) => p.ms))));
  const sx = (p: number) => M.left + (Math.min(nines(p), xMaxNines) / xMaxNines) * (W - M.left - M.right);
  const sy = (ms: number) => H - M.bottom - (ms / yMax) * (H - M.top - M.bottom);
  const xTicks: Array<[number, string]> = [];
  for (let n = 0; n <= xMaxNines; n++) {
    const p = 100 * (1 - 10 ** -n);
    xTicks.push([sx(p), `${Number(p.toFixed(Math.max(0, n - 2)))}%`]);
  }
  const yTicks: Array<[number, string]> = [0, 0.25, 0.5, 0.75, 1].map((f) => [sy(f * yMax), fmtMs(f * yMax)]);
  const lines = curves.map((r) => {
    // The final 100 % point sits at the right edge, where the max is drawn.
    const points = r.curve.map((p: CurvePoint) => {
      const x = p.percentile >= 100 ? W - M.right : sx(p.percentile);
      return `${x.toFixed(1)},${sy(p.ms).toFixed(1)}`;
    });
    return `<polyline class="curve" data-system="${r.system}" fill="none" stroke="${COLORS[r.system] ?? '#555'}" stroke-width="2" points="${points.join(' ')}"/>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="latency by percentile">${axes(xTicks, yTicks, 'percentile', 'latency')}${lines.join('')}${legend(curves)}</svg>`;
}

/** Successful operations per second over the run, one polyline per system. */
export function throughputSvg(results: SystemResult[]): string {
  const series = results.map((r) => ({
    r,
    perSecond: r.timeline.counts.map((c) => (c * 1000) / r.timeline.bucketMs),
    bucketMs: r.timeline.bucketMs,
  }));
  const tMax = Math.max(1, ...series.map((s) => (s.perSecond.length * s.bucketMs) / 1000));
  const yMax = niceMax(Math.max(0, ...series.flatMap((s) => s.perSecond)));
  const sx = (t: number) => M.left + (t / tMax) * (W - M.left - M.right);
  const sy = (v: number) => H - M.bottom - (v / yMax) * (H - M.top - M.bottom);
  const xTicks: Array<[number, string]> = [0, 0.25, 0.5, 0.75, 1].map((f) => [
    sx(f * tMax),
    `${(f * tMax).toFixed(1)} s`,
  ]);
  const yTicks: Array<[number, string]> = [0, 0.25, 0.5, 0.75, 1].map((f) => [
    sy(f * yMax),
    fmtRate(f * yMax),
  ]);
  const lines = series.map(({ r, perSecond, bucketMs }) => {
    const points = perSecond.map(
      (v, i) => `${sx(((i + 0.5) * bucketMs) / 1000).toFixed(1)},${sy(v).toFixed(1)}`,
    );
    return `<polyline class="throughput" data-system="${r.system}" fill="none" stroke="${COLORS[r.system] ?? '#555'}" stroke-width="2" points="${points.join(' ')}"/>`;
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="throughput over time">${axes(xTicks, yTicks, 'time', 'ok per second')}${lines.join('')}${legend(results)}</svg>`;
}

function numbersTable(report: BenchReport): string {
  const head = [
    'system',
    'measure',
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
  const rows = report.results.map((r) => [
    r.system,
    r.measure,
    r.mode === 'open' ? `open ${r.rate}/s${r.spin ? ' spin' : ''}` : `closed ×${r.concurrency}`,
    String(r.ok),
    fmtRate(r.throughput),
    fmtMs(r.latency.p50),
    fmtMs(r.latency.p90),
    fmtMs(r.latency.p99),
    fmtMs(r.latency.p999),
    fmtMs(r.latency.max),
    String(r.errors),
    fmtPct(r.cpu.generator),
    fmtPct(r.cpu.server),
    fmtPct(r.cpu.redis),
  ]);
  const tr = (cells: string[], tag: string) =>
    `<tr>${cells.map((c) => `<${tag}>${escapeHtml(c)}</${tag}>`).join('')}</tr>`;
  return `<table class="numbers">${tr(head, 'th')}${rows.map((r) => tr(r, 'td')).join('')}</table>`;
}

function extrasTable(report: BenchReport): string {
  const withExtra = report.results.filter((r) => Object.keys(r.extra).length > 0);
  if (withExtra.length === 0) return '';
  const keys = [...new Set(withExtra.flatMap((r) => Object.keys(r.extra)))];
  const cell = (v: unknown) =>
    escapeHtml(
      v === undefined ? '-' : typeof v === 'number' && !Number.isInteger(v) ? v.toFixed(2) : String(v),
    );
  const head = `<tr><th></th>${withExtra.map((r) => `<th>${escapeHtml(r.system)}</th>`).join('')}</tr>`;
  const body = keys
    .map(
      (k) =>
        `<tr><td>${escapeHtml(k)}</td>${withExtra.map((r) => `<td>${cell(r.extra[k])}</td>`).join('')}</tr>`,
    )
    .join('');
  return `<h2>Scenario numbers</h2><table>${head}${body}</table>`;
}

export function renderHtml(report: BenchReport): string {
  const ratios =
    report.ratios.length === 0
      ? ''
      : `<h2>Mailroom ÷ BullMQ</h2><table class="ratios"><tr><th>ratio</th><th>value</th></tr>${report.ratios
          .map((r) => `<tr><td>${escapeHtml(r.label)}</td><td>${escapeHtml(fmtRatio(r))}</td></tr>`)
          .join('')}</table>`;
  const settings = Object.entries(report.settings)
    .map(([k, v]) => `<tr><td>${escapeHtml(k)}</td><td>${escapeHtml(String(v))}</td></tr>`)
    .join('');
  const m = report.machine;
  const notes = report.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(`Mailroom bench: ${report.scenario}`)}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:960px}
table{border-collapse:collapse;margin:8px 0 16px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}svg{font:11px sans-serif;display:block;margin:8px 0 16px}
code{background:#f4f4f4;padding:1px 4px}
</style></head><body>
<h1>${escapeHtml(report.scenario)}</h1>
<p>${escapeHtml(report.description)}</p>
<p><code>${escapeHtml(report.command)}</code> · ${escapeHtml(report.startedAt)}</p>
<p>${escapeHtml(`${m.cpus} CPUs (${m.cpu}), ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}${m.redis ? `, Redis ${m.redis}` : ''}`)}</p>
<h2>Results</h2>
${numbersTable(report)}
<p>Latency is corrected for coordinated omission (open loop: from the intended send time). CPU is in % of one core over the measured window.</p>
${ratios}
<h2>Latency by percentile</h2>
${percentileSvg(report.results)}
<h2>Throughput over time</h2>
${throughputSvg(report.results)}
${extrasTable(report)}
<h2>Settings</h2><table>${settings}</table>
${notes ? `<h2>Notes</h2><ul>${notes}</ul>` : ''}
</body></html>
`;
}

/** Writes `<dir>/<scenario>-<timestamp>.json` and `.html`; returns both paths. */
export function writeReport(dir: string, report: BenchReport): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  const base = join(dir, `${report.scenario}-${stamp}`);
  const json = `${base}.json`;
  const html = `${base}.html`;
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(html, renderHtml(report));
  return { json, html };
}
