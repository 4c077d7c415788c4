/**
 * A/B: one bench, two builds, run in turns. The base is a git revision, built in a temporary
 * worktree beside this one (sharing its node_modules); the head is this work tree, built too. Each
 * pair runs both, the order flipping from pair to pair, and the report gives every pair, the
 * per-pair ratios and their median (ab-summary.ts says why ratios).
 *
 *   node --import tsx bench/runtime/ab.ts --base REV [--pairs 5] [--metric rate] -- \
 *       bench/app/throughput.ts --variant diamond-memory --duration 5000 --concurrency 500
 *
 * The bench must print one JSON line with `--json` (every script under bench/runtime and bench/app
 * does); `--metric` names the number to compare in its results (default `rate`).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { metricsOf, type Pair, splitArgs, summarize } from './ab-summary.js';

const USAGE = 'usage: ab.ts --base REV [--pairs 5] [--metric rate] -- bench/<path>.ts [bench flags]';

function main(): void {
  let split: ReturnType<typeof splitArgs>;
  try {
    split = splitArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  const { values } = parseArgs({
    args: split.own,
    options: {
      base: { type: 'string' },
      pairs: { type: 'string', default: '5' },
      metric: { type: 'string', default: 'rate' },
    },
    strict: true,
  });
  const pairs = Number(values.pairs);
  if (!values.base || !Number.isInteger(pairs) || pairs < 1) {
    console.error(USAGE);
    process.exit(2);
  }
  const head = execFileSync('git', ['rev-parse', '--show-toplevel'], { encoding: 'utf8' }).trim();
  let baseRev: string;
  try {
    baseRev = execFileSync('git', ['rev-parse', '--short', '--verify', `${values.base}^{commit}`], {
      cwd: head,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    console.error(`no commit "${values.base}" in this repository`);
    process.exit(2);
  }
  const baseDir = mkdtempSync(join(tmpdir(), 'mailroom-ab-'));
  try {
    execFileSync('git', ['worktree', 'add', '--detach', baseDir, baseRev], { cwd: head, stdio: 'ignore' });
    symlinkSync(join(head, 'node_modules'), join(baseDir, 'node_modules'));
    for (const root of [baseDir, head]) build(root);
    run(head, baseDir, baseRev, split, pairs, values.metric!);
  } finally {
    execFileSync('git', ['worktree', 'remove', '--force', baseDir], { cwd: head, stdio: 'ignore' });
    rmSync(baseDir, { recursive: true, force: true });
  }
}

function build(root: string): void {
  execFileSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  execFileSync('node', ['scripts/copy-assets.mjs'], { cwd: root, stdio: 'ignore' });
}

function run(
  head: string,
  baseDir: string,
  baseRev: string,
  split: ReturnType<typeof splitArgs>,
  pairs: number,
  metric: string,
): void {
  const measure = (root: string) =>
    metricsOf(
      execFileSync('node', [join(root, split.script), ...split.scriptArgs], {
        cwd: root,
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      }),
      metric,
    );
  const byVariant = new Map<string, Pair[]>();
  console.log(
    `ab: ${split.script} ${split.scriptArgs.join(' ')}; base ${baseRev}, head the work tree; ${metric}`,
  );
  for (let i = 0; i < pairs; i++) {
    // Alternating who goes first spreads a drift of the machine over both builds.
    const baseFirst = i % 2 === 0;
    const first = measure(baseFirst ? baseDir : head);
    const second = measure(baseFirst ? head : baseDir);
    const [base, after] = baseFirst ? [first, second] : [second, first];
    for (const [variant, value] of base) {
      const pair = { base: value, head: after.get(variant) ?? Number.NaN };
      byVariant.set(variant, [...(byVariant.get(variant) ?? []), pair]);
      console.log(
        `pair ${i + 1} (${baseFirst ? 'base' : 'head'} first) ${variant}: ${fmt(pair.base)} → ${fmt(pair.head)} (${(pair.head / pair.base).toFixed(2)})`,
      );
    }
  }
  for (const [variant, variantPairs] of byVariant) {
    const s = summarize(variantPairs);
    console.log(
      `${variant}: median ${fmt(s.baseMedian)} → ${fmt(s.headMedian)}; head/base per pair: median ${s.ratioMedian.toFixed(2)}, range ${s.ratioMin.toFixed(2)}–${s.ratioMax.toFixed(2)}, head higher in ${s.headHigher} of ${s.pairs}`,
    );
  }
}

function fmt(value: number): string {
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toPrecision(3);
}

main();
