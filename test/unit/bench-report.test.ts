/**
 * The harness's output: the result table, the Mailroom ÷ BullMQ ratios, the self-contained
 * HTML/SVG report (and its files), and the flag parser.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseBenchArgs, parseDuration, UsageError } from '../../bench/harness/args.js';
import { latencyHistogram, percentileCurve, recordMs, summarize } from '../../bench/harness/histogram.js';
import { escapeHtml, nines, renderHtml, writeReport } from '../../bench/harness/report-html.js';
import { type BenchReport, ratios, type SystemResult } from '../../bench/harness/result.js';
import { alignTable, fmtMs, fmtRate, renderReport } from '../../bench/harness/table.js';

function result(system: 'mailroom' | 'bullmq', scale: number, throughput: number): SystemResult {
  const h = latencyHistogram();
  for (let i = 1; i <= 1000; i++) recordMs(h, (i / 100) * scale);
  return {
    system,
    measure: system === 'mailroom' ? 'POST /api/v1/jobs → 202' : 'POST /jobs → 202',
    mode: 'closed',
    concurrency: 64,
    ok: 1000,
    errors: system === 'bullmq' ? 3 : 0,
    errorKinds: system === 'bullmq' ? { 'http 503': 3 } : {},
    throughput,
    windowMs: 10_000,
    latency: summarize(h),
    curve: percentileCurve(h),
    timeline: { bucketMs: 500, counts: [100, 120, 90, 110] },
    cpu: { generator: 31.5, server: 98, redis: 20 },
    extra: { completed: 1000, completed_per_s: throughput * 0.9 },
  };
}

function report(): BenchReport {
  const results = [result('mailroom', 1, 4000), result('bullmq', 2, 2000)];
  return {
    scenario: 'submit-http',
    description: 'submit echo jobs <over> HTTP & count',
    command: 'npm run bench -- submit-http --compare bullmq',
    startedAt: '2026-01-02T03:04:05.678Z',
    machine: { cpus: 2, cpu: 'Test CPU', memoryGiB: 24, node: 'v20.0.0', platform: 'linux', redis: '7.0.15' },
    settings: { payload_bytes: 128, store: 'redis' },
    results,
    ratios: ratios(results),
    notes: ['a note with <b>markup</b>'],
  };
}

describe('table', () => {
  it('formats durations and rates', () => {
    expect(fmtMs(0.0123)).toBe('12 µs');
    expect(fmtMs(1.234)).toBe('1.23 ms');
    expect(fmtMs(12.34)).toBe('12.3 ms');
    expect(fmtMs(123.4)).toBe('123 ms');
    expect(fmtMs(12_345)).toBe('12.3 s');
    expect(fmtRate(950)).toBe('950/s');
    expect(fmtRate(12_345)).toBe('12.3k/s');
    expect(fmtRate(2_500_000)).toBe('2.50M/s');
  });

  it('aligns columns: first left, others right, with a rule under the header', () => {
    expect(
      alignTable([
        ['a', 'bb'],
        ['ccc', 'd'],
      ]).split('\n'),
    ).toEqual(['a    bb', '---  --', 'ccc   d']);
    // µ is one column wide even though it is two bytes.
    expect(
      alignTable([
        ['x', 'µs'],
        ['y', 'ms'],
      ]).split('\n')[2],
    ).toBe('y  ms');
  });

  it('prints both systems, the ratios with a verdict, extras and errors', () => {
    const text = renderReport(report());
    const lines = text.split('\n');
    const row = (name: string) => lines.find((l) => l.startsWith(name))!.split(/\s{2,}/);
    expect(row('mailroom')).toEqual([
      'mailroom',
      'closed ×64',
      '1000',
      '4000/s',
      '5.00 ms',
      '9.01 ms',
      '9.90 ms',
      '9.99 ms',
      '10.0 ms',
      '0',
      '32%',
      '98%',
      '20%',
    ]);
    expect(row('bullmq')[4]).toBe('10.0 ms');
    expect(text).toMatch(/^throughput\s+2\.00 {2}Mailroom 2\.00× better$/m);
    expect(text).toMatch(/^p50\s+0\.50 {2}Mailroom 2\.00× better$/m);
    expect(text).toMatch(/^completed_per_s\s+2\.00/m);
    expect(text).toMatch(/bullmq errors: http 503 ×3/);
    expect(text).toMatch(/note: a note with <b>markup<\/b>/);
  });

  it('says who is better when BullMQ wins, and n/a for a zero denominator', () => {
    const r = report();
    r.results = [result('mailroom', 3, 1000), result('bullmq', 1, 2000)];
    r.ratios = ratios(r.results);
    const text = renderReport(r);
    expect(text).toMatch(/^throughput\s+0\.50 {2}BullMQ 2\.00× better$/m);
    expect(text).toMatch(/^p50\s+3\.00 {2}BullMQ 3\.00× better$/m);
    r.results[1]!.throughput = 0;
    expect(ratios(r.results)[0]!.value).toBeNaN();
  });

  it('has no ratios for a single system', () => {
    expect(ratios([result('mailroom', 1, 10)])).toEqual([]);
  });
});

describe('HTML report', () => {
  it('is one self-contained file: no scripts, no external references', () => {
    const html = renderHtml(report());
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<script|<link|src=|href=|@import|url\(/i);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html.match(/<\/svg>/g)).toHaveLength(2);
  });

  it('draws one percentile curve and one throughput line per system', () => {
    const html = renderHtml(report());
    expect(html.match(/class="curve" data-system="mailroom"/g)).toHaveLength(1);
    expect(html.match(/class="curve" data-system="bullmq"/g)).toHaveLength(1);
    expect(html.match(/class="throughput"/g)).toHaveLength(2);
    const points = /class="curve" data-system="mailroom"[^>]*points="([^"]+)"/.exec(html)![1]!.split(' ');
    expect(points.length).toBe(report().results[0]!.curve.length);
    for (const p of points) expect(p).toMatch(/^\d+(\.\d)?,\d+(\.\d)?$/);
    // Higher percentiles lie further right and no lower (SVG y grows downwards).
    const xy = points.map((p) => p.split(',').map(Number) as [number, number]);
    for (let i = 1; i < xy.length; i++) {
      expect(xy[i]![0]).toBeGreaterThanOrEqual(xy[i - 1]![0]);
      expect(xy[i]![1]).toBeLessThanOrEqual(xy[i - 1]![1]);
    }
    expect(html).toContain('>99.9%<');
  });

  it('contains the numbers, the ratios, the command and the machine, escaped', () => {
    const html = renderHtml(report());
    expect(html).toContain('<td>9.90 ms</td>');
    expect(html).toContain('<td>4000/s</td>');
    expect(html).toContain('Mailroom 2.00× better');
    expect(html).toContain('npm run bench -- submit-http --compare bullmq');
    expect(html).toContain('Redis 7.0.15');
    expect(html).toContain('submit echo jobs &#60;over&#62; HTTP &#38; count');
    expect(html).not.toContain('<b>markup</b>');
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  });

  it('places percentiles on the number-of-nines axis', () => {
    expect(nines(0)).toBe(0);
    expect(nines(90)).toBeCloseTo(1, 9);
    expect(nines(99.9)).toBeCloseTo(3, 9);
  });

  it('writes the JSON and the HTML next to each other', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-report-'));
    try {
      const files = writeReport(join(dir, 'nested'), report());
      expect(files.html).toMatch(/submit-http-2026-01-02T03-04-05-678Z\.html$/);
      expect(JSON.parse(readFileSync(files.json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(report())));
      expect(readFileSync(files.html, 'utf8')).toBe(renderHtml(report()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('flags', () => {
  it('parses durations', () => {
    expect(parseDuration('10s', '--duration')).toBe(10_000);
    expect(parseDuration('500ms', '--duration')).toBe(500);
    expect(parseDuration('1.5m', '--duration')).toBe(90_000);
    expect(parseDuration('7', '--duration')).toBe(7_000);
    expect(() => parseDuration('ten', '--duration')).toThrow(UsageError);
  });

  it('--redis alone means a private server; with a URL, that URL; --compare implies it', () => {
    expect(parseBenchArgs(['submit-http', '--redis']).redis).toBe('private');
    expect(parseBenchArgs(['--redis', 'submit-http']).scenario).toBe('submit-http');
    expect(parseBenchArgs(['submit-http', '--redis', 'redis://127.0.0.1:7000']).redis).toBe(
      'redis://127.0.0.1:7000',
    );
    expect(parseBenchArgs(['submit-http', '--compare', 'bullmq']).redis).toBe('private');
    expect(parseBenchArgs(['submit-http']).redis).toBeUndefined();
  });

  it('rejects contradictions and nonsense as usage errors', () => {
    expect(() => parseBenchArgs(['x', '--rate', '10', '--connections', '2'])).toThrow(/exclude each other/);
    expect(() => parseBenchArgs(['x', '--compare', 'kafka'])).toThrow(/only "bullmq"/);
    expect(() => parseBenchArgs(['x', '--rate', '0'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['x', '--redis=localhost'])).toThrow(/redis:\/\//);
    expect(() => parseBenchArgs(['x', '--bogus'])).toThrow(UsageError);
    expect(() => parseBenchArgs(['a', 'b'])).toThrow(/one scenario at a time/);
    expect(() => parseBenchArgs(['x', '--rate', '10', '--pacer', 'busy'])).toThrow(/"timer" or "spin"/);
    expect(() => parseBenchArgs(['x', '--pacer', 'spin'])).toThrow(/give --rate too/);
  });

  it('paces the open loop on timers unless --pacer spin', () => {
    expect(parseBenchArgs(['x', '--rate', '10']).pacer).toBe('timer');
    expect(parseBenchArgs(['x', '--rate', '10', '--pacer', 'spin']).pacer).toBe('spin');
  });
});
