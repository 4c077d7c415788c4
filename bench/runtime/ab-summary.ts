/**
 * The arithmetic of an A/B run (ab.ts): per-pair ratios and their median. On a shared VM the
 * same build moves by a third from one run to the next, so a change is judged by the ratios of
 * runs made side by side, not by two averages made apart.
 */

export interface Pair {
  base: number;
  head: number;
}

export interface PairSummary {
  pairs: number;
  baseMedian: number;
  headMedian: number;
  /** Median of head ÷ base over the pairs; above 1 means head measured higher. */
  ratioMedian: number;
  ratioMin: number;
  ratioMax: number;
  /** Pairs in which head measured higher than base. */
  headHigher: number;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(pairs: readonly Pair[]): PairSummary {
  const ratios = pairs.map((pair) => pair.head / pair.base);
  return {
    pairs: pairs.length,
    baseMedian: median(pairs.map((pair) => pair.base)),
    headMedian: median(pairs.map((pair) => pair.head)),
    ratioMedian: median(ratios),
    ratioMin: Math.min(...ratios),
    ratioMax: Math.max(...ratios),
    headHigher: pairs.filter((pair) => pair.head > pair.base).length,
  };
}

/**
 * Splits `ab.ts` arguments at `--`: its own flags before, the bench script and the script's flags
 * after. The script is named by its source path (`bench/app/throughput.ts`); each build runs its
 * compiled form (`dist/bench/app/throughput.js`), and `--json` is added if missing.
 */
export function splitArgs(argv: readonly string[]): { own: string[]; script: string; scriptArgs: string[] } {
  const at = argv.indexOf('--');
  if (at < 0 || at === argv.length - 1)
    throw new Error('name the bench after --: ab.ts [flags] -- <script> [flags]');
  const [script, ...rest] = argv.slice(at + 1);
  if (!/^bench\/.+\.ts$/.test(script!)) throw new Error(`not a bench script under bench/: ${script}`);
  return {
    own: argv.slice(0, at),
    script: `dist/${script!.replace(/\.ts$/, '.js')}`,
    scriptArgs: rest.includes('--json') ? rest : [...rest, '--json'],
  };
}

/** The metric of each variant in the JSON line a bench prints last with `--json`. */
export function metricsOf(stdout: string, metric: string): Map<string, number> {
  const line = stdout
    .trim()
    .split('\n')
    .reverse()
    .find((candidate) => candidate.startsWith('{'));
  if (!line) throw new Error('the bench printed no JSON line (does it take --json?)');
  const parsed = JSON.parse(line) as { results?: Array<Record<string, unknown>> };
  const values = new Map<string, number>();
  for (const result of parsed.results ?? []) {
    const value = result[metric];
    if (typeof value !== 'number') throw new Error(`no number "${metric}" in the bench's results`);
    values.set(String(result.variant ?? 'result'), value);
  }
  if (values.size === 0) throw new Error('the bench reported no results');
  return values;
}
