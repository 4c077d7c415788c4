/**
 * What one scenario run produces, per system measured (Mailroom, and BullMQ with --compare), and
 * the report around them: the single shape the table, the JSON file and the HTML report are made from.
 */
import type { CurvePoint, LatencySummary } from './histogram.js';

/**
 * Who a result row is about: `mailroom` or `bullmq`, or a scenario's own variant of Mailroom
 * (mixed-payload: `baseline`, `pool`, `pool large`, …). Only `mailroom` and `bullmq` are compared.
 */
export type SystemName = string;

export interface SystemResult {
  system: SystemName;
  /** What the latency measures, e.g. "POST /api/v1/jobs → 202". */
  measure: string;
  mode: 'open' | 'closed';
  /** Requests per second asked for (open loop). */
  rate?: number;
  /** Open loop paced by polling (`--pacer spin`) instead of timers. */
  spin?: boolean;
  /** Concurrent requests (closed loop: connections × pipelining). */
  concurrency?: number;
  /** Successful operations. */
  ok: number;
  errors: number;
  errorKinds: Record<string, number>;
  /** Successful operations per second over the measured window. */
  throughput: number;
  windowMs: number;
  /** Coordinated-omission-corrected latency (open loop: from the intended send time). */
  latency: LatencySummary;
  /** Closed loop only: the raw send-to-answer times, uncorrected. */
  serviceTime?: LatencySummary;
  /** Closed loop only: the expected interval the correction assumed, in ms. */
  expectedIntervalMs?: number;
  curve: CurvePoint[];
  /** Successful operations per bucket, from the start of the window. */
  timeline: { bucketMs: number; counts: number[] };
  /** Percent of one core, over the measured window. */
  cpu: { generator: number; server?: number; redis?: number };
  /** Scenario-specific numbers (drain time, lost, duplicated, …). */
  extra: Record<string, number | string>;
}

export interface Ratio {
  label: string;
  /** Mailroom ÷ BullMQ. */
  value: number;
  /** Whether a value above 1 favours Mailroom (throughput) or BullMQ (latency). */
  higherIsBetter: boolean;
}

export interface BenchReport {
  scenario: string;
  description: string;
  command: string;
  startedAt: string;
  machine: { cpus: number; cpu: string; memoryGiB: number; node: string; platform: string; redis?: string };
  settings: Record<string, string | number | boolean | null>;
  results: SystemResult[];
  ratios: Ratio[];
  notes: string[];
}

/** Mailroom ÷ BullMQ for throughput and each latency percentile, when both ran. */
export function ratios(results: SystemResult[]): Ratio[] {
  const m = results.find((r) => r.system === 'mailroom');
  const b = results.find((r) => r.system === 'bullmq');
  if (!m || !b) return [];
  const div = (x: number, y: number) => (y > 0 ? x / y : Number.NaN);
  const out: Ratio[] = [
    { label: 'throughput', value: div(m.throughput, b.throughput), higherIsBetter: true },
  ];
  for (const key of ['p50', 'p90', 'p99', 'p999', 'max'] as const) {
    out.push({
      label: key === 'p999' ? 'p99.9' : key,
      value: div(m.latency[key], b.latency[key]),
      higherIsBetter: false,
    });
  }
  for (const [key, value] of Object.entries(m.extra)) {
    const other = b.extra[key];
    if (typeof value === 'number' && typeof other === 'number' && key.endsWith('_per_s')) {
      out.push({ label: key, value: div(value, other), higherIsBetter: true });
    }
  }
  return out;
}
