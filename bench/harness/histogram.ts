/**
 * Latency histograms for the load harness: HDR histograms (hdr-histogram-js) of microseconds, the
 * percentile summary every table and report shows, and the percentile curve the HTML report plots.
 * Values are recorded in whole microseconds (1 µs .. 10 min, 3 significant digits), so a summary is
 * exact to 0.1 % of the value and a 2 ms latency is never rounded to 1 or 3.
 */
import { build, type Histogram } from 'hdr-histogram-js';

export type { Histogram };

const HIGHEST_US = 600_000_000;

export function latencyHistogram(): Histogram {
  return build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: 3,
  });
}

/** Microseconds as recorded: at least 1 µs (a histogram has no zero bucket worth showing), at most 10 min. */
export function toUs(ms: number): number {
  return Math.min(HIGHEST_US, Math.max(1, Math.round(ms * 1000)));
}

export function recordMs(histogram: Histogram, ms: number): void {
  histogram.recordValue(toUs(ms));
}

/**
 * Records `ms` and, when it exceeds the expected interval, the samples a stalled closed loop failed to
 * send meanwhile (HdrHistogram's own correction: value − k·interval for each k while ≥ interval).
 */
export function recordMsCorrected(histogram: Histogram, ms: number, expectedIntervalMs: number): void {
  histogram.recordValueWithExpectedInterval(toUs(ms), toUs(expectedIntervalMs));
}

/** A copy of `histogram` corrected for coordinated omission after the fact (closed loops). */
export function correctedCopy(histogram: Histogram, expectedIntervalMs: number): Histogram {
  if (!(expectedIntervalMs > 0) || histogram.totalCount === 0) return copyOf(histogram);
  return histogram.copyCorrectedForCoordinatedOmission(toUs(expectedIntervalMs));
}

export function copyOf(histogram: Histogram): Histogram {
  const copy = latencyHistogram();
  copy.add(histogram);
  return copy;
}

/** Percentiles in milliseconds (to the microsecond). */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

const ms = (us: number): number => Math.round(us) / 1000;

export function summarize(histogram: Histogram): LatencySummary {
  if (histogram.totalCount === 0) return { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: histogram.totalCount,
    mean: ms(histogram.mean),
    p50: ms(histogram.getValueAtPercentile(50)),
    p90: ms(histogram.getValueAtPercentile(90)),
    p99: ms(histogram.getValueAtPercentile(99)),
    p999: ms(histogram.getValueAtPercentile(99.9)),
    max: ms(histogram.maxValue),
  };
}

/** One point of the percentile curve: the percentile (0–100) and the latency at it in ms. */
export interface CurvePoint {
  percentile: number;
  ms: number;
}

/**
 * The latency at percentiles spaced evenly on the "number of nines" scale (0 %, 90 %, 99 %, 99.9 %
 * … as HdrHistogram's plotter draws them), up to the last one the sample count can resolve, then max.
 */
export function percentileCurve(histogram: Histogram, pointsPerNine = 10): CurvePoint[] {
  if (histogram.totalCount === 0) return [];
  const maxNines = Math.max(1, Math.log10(histogram.totalCount));
  const max = histogram.maxValue;
  const points: CurvePoint[] = [];
  for (let i = 0; i <= Math.floor(maxNines * pointsPerNine); i++) {
    const percentile = 100 * (1 - 10 ** (-i / pointsPerNine));
    // Percentile values are the top of their bucket, which can lie above the true max.
    points.push({ percentile, ms: ms(Math.min(max, histogram.getValueAtPercentile(percentile))) });
  }
  points.push({ percentile: 100, ms: ms(max) });
  return points;
}
