/**
 * Shared plumbing for the runtime micro-benches: flags, HDR histograms, tables, one-line JSON,
 * per-variant child processes (so one variant's JIT feedback and heap never colour the next) and
 * Redis key cleanup. These are standalone scripts rather than `vitest bench` files because they need
 * fixed-duration windows, open-loop pacing, `--expose-gc` and child processes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { availableParallelism } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { build, type Histogram } from 'hdr-histogram-js';
import { Redis } from 'ioredis';
import { Packr } from 'msgpackr';

export const DEFAULT_REDIS = 'redis://127.0.0.1:6379';

type Options = NonNullable<ParseArgsConfig['options']>;

/** Common flags: --json, --variant, --child (internal), --help. */
export function flags<T extends Options>(options: T, usage: string) {
  const parsed = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      variant: { type: 'string', default: 'all' },
      child: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
      ...options,
    },
    strict: true,
    allowPositionals: false,
  });
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

export function num(value: string | boolean | undefined, fallback: number): number {
  if (typeof value !== 'string') return fallback;
  const parsed = Number(value.replace(/_/g, ''));
  if (!Number.isFinite(parsed)) throw new Error(`not a number: ${value}`);
  return parsed;
}

export function str(value: string | boolean | undefined, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

// ---- latency -----------------------------------------------------------------------------------

/** A histogram of nanoseconds (1 ns .. 10 min, 3 significant digits). */
export function nsHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600e9,
    numberOfSignificantValueDigits: 3,
  });
}

/** Milliseconds since an arbitrary origin, sub-microsecond resolution. */
export const now = (): number => performance.now();

export function recordMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(Math.max(1, Math.round(ms * 1e6)));
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

/** Percentiles in microseconds (rounded to 0.1 µs). */
export function percentilesUs(histogram: Histogram): Percentiles {
  const us = (ns: number) => Math.round(ns / 100) / 10;
  return {
    count: histogram.totalCount,
    p50: us(histogram.getValueAtPercentile(50)),
    p90: us(histogram.getValueAtPercentile(90)),
    p99: us(histogram.getValueAtPercentile(99)),
    p999: us(histogram.getValueAtPercentile(99.9)),
    max: us(histogram.maxValue),
  };
}

/** Percentiles of a list of plain numbers (e.g. per-window throughput), exact. */
export function percentilesOf(values: number[]): Percentiles & { min: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? 0;
  return {
    count: sorted.length,
    min: sorted[0] ?? 0,
    p50: at(50),
    p90: at(90),
    p99: at(99),
    p999: at(99.9),
    max: sorted[sorted.length - 1] ?? 0,
  };
}

export function fmtUs(us: number): string {
  if (us >= 10_000) return `${(us / 1000).toFixed(1)} ms`;
  if (us >= 1000) return `${(us / 1000).toFixed(2)} ms`;
  return `${us.toFixed(us < 10 ? 2 : 1)} µs`;
}

export function fmtRate(perSecond: number): string {
  if (perSecond >= 1e6) return `${(perSecond / 1e6).toFixed(2)} M/s`;
  if (perSecond >= 1e3) return `${(perSecond / 1e3).toFixed(1)} k/s`;
  return `${perSecond.toFixed(0)} /s`;
}

export function fmtBytes(bytes: number): string {
  if (Math.abs(bytes) >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  if (Math.abs(bytes) >= 1024) return `${(bytes / 1024).toFixed(2)} KiB`;
  return `${bytes.toFixed(0)} B`;
}

export function latencyRow(label: string, p: Percentiles): string[] {
  return [label, String(p.count), fmtUs(p.p50), fmtUs(p.p90), fmtUs(p.p99), fmtUs(p.p999), fmtUs(p.max)];
}

export const LATENCY_HEADER = ['latency', 'n', 'p50', 'p90', 'p99', 'p99.9', 'max'];

export function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) widths[i] = Math.max(widths[i] ?? 0, row[i]!.length);
  }
  const line = (row: string[]) =>
    row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  const out = [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  ')];
  for (const row of rows.slice(1)) out.push(line(row));
  return out.join('\n');
}

// ---- timing helpers ----------------------------------------------------------------------------

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Samples `read()` every `intervalMs` for `durationMs`; returns the per-interval rates (per second). */
export async function sampleRates(read: () => number, durationMs: number, intervalMs = 100) {
  const rates: number[] = [];
  const startValue = read();
  const start = now();
  let lastValue = startValue;
  let last = start;
  while (now() - start < durationMs) {
    await sleep(intervalMs);
    const t = now();
    const v = read();
    rates.push(((v - lastValue) * 1000) / (t - last));
    lastValue = v;
    last = t;
  }
  const elapsed = now() - start;
  return {
    total: lastValue - startValue,
    elapsedMs: elapsed,
    rate: ((lastValue - startValue) * 1000) / elapsed,
    rates,
  };
}

/** A small fast PRNG so the load generator does not show up in profiles. */
export function xorshift(seed = 0x9e3779b9): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/**
 * Runs this script again with `nodeFlags` ahead of its own when any is missing, and exits with the
 * rerun's status: flags such as V8's heap sizes take effect only when the process starts.
 */
export function rerunWithNodeFlags(nodeFlags: readonly string[]): void {
  if (nodeFlags.every((flag) => process.execArgv.includes(flag))) return;
  const result = spawnSync(process.execPath, [...nodeFlags, ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(result.status ?? 1);
}

// ---- variants in child processes ---------------------------------------------------------------

export interface VariantResult {
  variant: string;
  [key: string]: unknown;
}

/**
 * With `--variant all` (the default) every variant runs in its own child process, one after the
 * other, each reporting one JSON line; otherwise the named variant runs here.
 */
export async function runVariants(
  names: readonly string[],
  values: Record<string, string | boolean | undefined>,
  runOne: (variant: string) => Promise<VariantResult>,
  extraExecArgv: string[] = [],
): Promise<VariantResult[]> {
  const wanted = str(values.variant, 'all');
  if (wanted !== 'all') {
    if (!names.includes(wanted)) throw new Error(`unknown variant ${wanted}; one of ${names.join(', ')}`);
    return [await runOne(wanted)];
  }
  const results: VariantResult[] = [];
  for (const name of names) {
    const args = [
      ...process.execArgv,
      ...extraExecArgv,
      process.argv[1]!,
      ...passThroughArgs(),
      '--variant',
      name,
      '--child',
      '--json',
    ];
    results.push(await runChild(args));
  }
  return results;
}

function passThroughArgs(): string[] {
  const out: string[] = [];
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--json' || arg === '--child') continue;
    if (arg === '--variant') {
      i++;
      continue;
    }
    if (arg.startsWith('--variant=')) continue;
    out.push(arg);
  }
  return out;
}

function runChild(args: string[]): Promise<VariantResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const lines = out.trim().split('\n');
      const last = lines[lines.length - 1] ?? '';
      if (code !== 0) {
        reject(new Error(`variant child exited with ${code}: ${out.slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as VariantResult);
      } catch {
        reject(new Error(`variant child printed no JSON: ${out.slice(-2000)}`));
      }
    });
  });
}

/** In a child: print only the JSON line. In the parent: the table, and the JSON line with --json. */
export function report(
  bench: string,
  values: Record<string, string | boolean | undefined>,
  results: VariantResult[],
  render: (results: VariantResult[]) => string,
  extra: Record<string, unknown> = {},
): void {
  if (values.child) {
    console.log(JSON.stringify(results[0]));
    return;
  }
  console.log(render(results));
  if (values.json) console.log(JSON.stringify({ bench, ...extra, machine: machine(), results }));
}

export function machine() {
  let cpu = 'unknown';
  try {
    cpu = /model name\s*:\s*(.*)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpu;
  } catch {}
  return { cores: availableParallelism(), cpu, node: process.version };
}

// ---- heap ----

/** `heapUsed` once collections free nothing more; needs --expose-gc. */
export async function settledHeap(): Promise<number> {
  const gc = globalThis.gc as () => void;
  // Several rounds: weak callbacks and finalizers can free more on the next pass.
  for (let i = 0; i < 4; i++) {
    gc();
    await sleep(20);
  }
  return process.memoryUsage().heapUsed;
}

/** Self size and count per V8 node type and name, from a heap snapshot file. */
export function heapCensus(file: string): Map<string, { count: number; bytes: number }> {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  unlinkSync(file);
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0];
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const census = new Map<string, { count: number; bytes: number }>();
  const { nodes, strings } = snapshot;
  for (let i = 0; i < nodes.length; i += fields.length) {
    const type = types[nodes[i + typeAt]!]!;
    // Strings are named by their content; group them by type only.
    const name = type === 'object' || type === 'closure' ? strings[nodes[i + nameAt]!]!.slice(0, 40) : '';
    const key = name ? `${type} ${name}` : type;
    const entry = census.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += nodes[i + sizeAt]!;
    census.set(key, entry);
  }
  return census;
}

// ---- Redis -------------------------------------------------------------------------------------

export function uniquePrefix(label: string): string {
  return `bench:${label}:${randomBytes(4).toString('hex')}:`;
}

export async function redisVersion(url: string): Promise<string> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } finally {
    client.disconnect();
  }
}

/** Deletes every key under `prefix` (SCAN + UNLINK); returns how many were deleted. */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  if (!/^bench:[\w-]+:[0-9a-f]+:$/.test(prefix)) throw new Error(`refusing to delete keys under ${prefix}`);
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let deleted = 0;
  try {
    await client.connect();
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 2000);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return deleted;
}

/** Runs `body`, then deletes the prefix's keys, also on Ctrl-C. */
export async function withRedisPrefix<T>(url: string, prefix: string, body: () => Promise<T>): Promise<T> {
  const onSignal = () => {
    deleteKeys(url, prefix).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await body();
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await deleteKeys(url, prefix);
  }
}

// ---- snapshots ---------------------------------------------------------------------------------

/** The Redis store's encoding (plain msgpack, no records), to size snapshots the way it writes them. */
const packr = new Packr({ useRecords: false, moreTypes: false });

/** A bench actor's state: a counter, a status and padding. */
export interface PaddedState {
  n: number;
  status: string;
  payload: string;
}

/** A payload that makes a packed record (as the Redis store writes it) about `bytes` long. */
export function snapshotPayload(bytes: number): { payload: string; snapshotBytes: number } {
  const size = (len: number) =>
    packr.pack({
      state: { n: 1_000_000, status: 'running', payload: 'x'.repeat(len) },
      timers: null,
      outbox: null,
      outSeq: null,
      inSeq: null,
      tags: ['live'],
      score: 0,
    }).length;
  let len = Math.max(0, bytes - size(0));
  while (len > 0 && size(len) > bytes) len--;
  return { payload: 'x'.repeat(len), snapshotBytes: size(len) };
}

// ---- profiling ---------------------------------------------------------------------------------

/**
 * Runs `body` under the V8 CPU profiler and writes a .cpuprofile to `file` (when given), so a
 * profile covers only the measured window, not set-up. Read it with cpuprofile-top.ts.
 */
export async function profiled<T>(file: string | undefined, body: () => Promise<T>): Promise<T> {
  if (!file) return body();
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 100 });
  await session.post('Profiler.start');
  try {
    return await body();
  } finally {
    const { profile } = await session.post('Profiler.stop');
    writeFileSync(file, JSON.stringify(profile));
    session.disconnect();
    console.error(`cpu profile of the measured window written to ${file}`);
  }
}

interface SamplingNode {
  callFrame: { functionName: string; url: string };
  selfSize: number;
  children: SamplingNode[];
}

/**
 * Starts V8's sampling heap profiler, counting objects that were already collected too, so the
 * result is what was allocated (garbage included), not what is live. stop() returns bytes per
 * allocating function, most first.
 */
export async function allocationSampler(): Promise<() => Promise<Array<{ fn: string; bytes: number }>>> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  // The two include flags exist in Node 20's V8 but not yet in @types/node.
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 1024,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  } as { samplingInterval: number });
  return async () => {
    const { profile } = (await session.post('HeapProfiler.stopSampling')) as unknown as {
      profile: { head: SamplingNode };
    };
    session.disconnect();
    const bytes = new Map<string, number>();
    const walk = (node: SamplingNode) => {
      const { functionName, url } = node.callFrame;
      const where = url.replace(/^file:\/\//, '').replace(/^.*\/(src|bench|node_modules)\//, '$1/');
      const fn = `${functionName || '(anonymous)'} ${where}`.trim();
      bytes.set(fn, (bytes.get(fn) ?? 0) + node.selfSize);
      for (const child of node.children) walk(child);
    };
    walk(profile.head);
    return [...bytes].map(([fn, total]) => ({ fn, bytes: total })).sort((a, b) => b.bytes - a.bytes);
  };
}

/** Renders allocation samples as bytes per operation. */
export function allocationTable(
  samples: Array<{ fn: string; bytes: number }>,
  operations: number,
  top = 15,
): string {
  const total = samples.reduce((sum, s) => sum + s.bytes, 0);
  return table([
    ['B/op', 'allocating function'],
    [String(Math.round(total / operations)), 'total'],
    ...samples.slice(0, top).map((s) => [String(Math.round(s.bytes / operations)), s.fn]),
  ]);
}
