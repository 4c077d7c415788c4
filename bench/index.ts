/**
 * The load-test harness entry point: `npm run bench -- <scenario> [flags]` and `mailroom bench`.
 * Parses flags, runs the scenario (which spawns the built server unless --url is given), prints
 * the table (stdout) and writes the JSON and HTML reports. Exit codes: 0 done, 1 the run failed,
 * 2 usage error or a scenario this build cannot run.
 */
import { pathToFileURL } from 'node:url';
import { BENCH_USAGE, commandLine, parseBenchArgs, UsageError } from './harness/args.js';
import { writeReport } from './harness/report-html.js';
import { type BenchReport, ratios } from './harness/result.js';
import { machineInfo } from './harness/system-info.js';
import { renderReport } from './harness/table.js';
import { findScenario, SCENARIOS } from './scenarios/index.js';

function scenarioList(): string {
  return SCENARIOS.map((s) => `  ${s.name.padEnd(14)} ${s.description}`).join('\n');
}

/** More than 1 % of requests failed (and more than 10): the numbers do not describe a healthy run. */
function tooManyErrors(results: BenchReport['results']): string | undefined {
  const bad = results.filter((r) => r.errors > Math.max(10, 0.01 * (r.ok + r.errors)));
  if (bad.length === 0) return undefined;
  return bad.map((r) => `${r.system}: ${r.errors} of ${r.ok + r.errors} requests failed`).join('; ');
}

/** Runs the harness with `argv` (the words after `bench`); resolves with the exit code. */
export async function runBench(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseBenchArgs>;
  try {
    args = parseBenchArgs(argv);
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`bench: ${error.message}\n\n${BENCH_USAGE}`);
      return 2;
    }
    throw error;
  }
  if (args.help) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  if (!args.scenario) {
    process.stderr.write(`bench: missing scenario; one of:\n${scenarioList()}\n\nSee --help.\n`);
    return 2;
  }
  const scenario = findScenario(args.scenario);
  if (!scenario) {
    process.stderr.write(`bench: unknown scenario "${args.scenario}"; one of:\n${scenarioList()}\n`);
    return 2;
  }
  const unavailable = await scenario.unavailable(args);
  if (unavailable) {
    process.stderr.write(`bench: scenario "${scenario.name}" is not available yet: ${unavailable}\n`);
    return 2;
  }

  const startedAt = new Date().toISOString();
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let outcome: Awaited<ReturnType<typeof scenario.run>>;
  try {
    outcome = await scenario.run({ args, log });
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`bench: ${error.message}\n`);
      return 2;
    }
    process.stderr.write(
      `bench: ${scenario.name} failed: ${error instanceof Error ? error.message : String(error)}\n`,
    );
    return 1;
  }
  const report: BenchReport = {
    scenario: scenario.name,
    description: scenario.description,
    command: commandLine(argv),
    startedAt,
    machine: { ...machineInfo(), ...(outcome.redisVersion ? { redis: outcome.redisVersion } : {}) },
    settings: outcome.settings,
    results: outcome.results,
    ratios: ratios(outcome.results),
    notes: outcome.notes,
  };
  process.stdout.write(`${renderReport(report)}\n`);
  if (!args.noReport) {
    const files = writeReport(args.out, report);
    process.stdout.write(`report: ${files.html}\n        ${files.json}\n`);
  }
  if (args.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  const failure = outcome.failure ?? (outcome.errorsExpected ? undefined : tooManyErrors(outcome.results));
  if (failure) {
    process.stderr.write(`bench: ${scenario.name}: ${failure}\n`);
    return 1;
  }
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runBench(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      process.stderr.write(
        `bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
      );
      process.exit(1);
    },
  );
}
