/**
 * A server for the pool benches: `startServer` with the built-in config, the payload pool set from
 * the command line, and a short retention so large completed jobs do not pile up in memory.
 *
 *   node --import tsx bench/pool/serve.ts <port> <pool on|off> [threshold bytes]
 *
 * With `MAILROOM_BENCH_LOOP=1` it also watches its own event loop (delay histogram, utilization)
 * and garbage collector (pauses by kind) and prints a one-line JSON summary to stderr on SIGTERM,
 * so a latency run can be told apart into loop work, GC pauses and CPU contention.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';
import { builtInConfigPath, loadConfig } from '../../src/config.js';
import { startServer } from '../../src/main.js';

const [port = '0', mode = 'on', threshold] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'mailroom-pool-bench-'));
const configPath = join(dir, 'config.json');
const builtIn = JSON.parse(readFileSync(builtInConfigPath(), 'utf8')) as Record<string, unknown>;
writeFileSync(
  configPath,
  JSON.stringify({
    ...builtIn,
    retention_ms: 2_000,
    pool: { enabled: mode === 'on', ...(threshold ? { threshold_bytes: Number(threshold) } : {}) },
  }),
);
const config = loadConfig({ env: {}, overrides: { port, host: '127.0.0.1', configPath, logLevel: 'warn' } });
const server = await startServer(config, { handleSignals: process.env.MAILROOM_BENCH_LOOP !== '1' });
if (process.env.MAILROOM_BENCH_LOOP === '1') watchLoop(() => server.stop());
process.stdout.write(`listening ${server.port}\n`);

function watchLoop(stop: () => Promise<void>): void {
  const delay = monitorEventLoopDelay({ resolution: 1 });
  delay.enable();
  const elu = performance.eventLoopUtilization();
  // GC kinds as perf_hooks numbers them: 1 minor (scavenge), 4 major (mark-compact), 8 incremental, 16 weak callbacks.
  const gc = new Map<number, { count: number; totalMs: number; maxMs: number; over10: number }>();
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry as { detail?: { kind?: number } }).detail?.kind ?? 0;
      const row = gc.get(kind) ?? { count: 0, totalMs: 0, maxMs: 0, over10: 0 };
      row.count++;
      row.totalMs += entry.duration;
      row.maxMs = Math.max(row.maxMs, entry.duration);
      if (entry.duration > 10) row.over10++;
      gc.set(kind, row);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  const peak = { heapMb: 0, externalMb: 0 };
  setInterval(() => {
    const memory = process.memoryUsage();
    peak.heapMb = Math.max(peak.heapMb, Math.round(memory.heapUsed / 2 ** 20));
    peak.externalMb = Math.max(
      peak.externalMb,
      Math.round((memory.external + memory.arrayBuffers) / 2 ** 20),
    );
  }, 100).unref();
  process.once('SIGTERM', () => {
    const used = performance.eventLoopUtilization(elu);
    const ms = (ns: number) => Math.round(ns / 1e4) / 100;
    const summary = {
      loop_delay_ms: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
      loop_utilization: Math.round(used.utilization * 1000) / 1000,
      gc: Object.fromEntries(
        [...gc].map(([kind, row]) => [
          ({ 1: 'minor', 4: 'major', 8: 'incremental', 16: 'weak' } as Record<number, string>)[kind] ?? kind,
          { ...row, totalMs: Math.round(row.totalMs), maxMs: Math.round(row.maxMs * 10) / 10 },
        ]),
      ),
      peak_heap_mb: peak.heapMb,
      peak_external_mb: peak.externalMb,
    };
    process.stderr.write(`loop ${JSON.stringify(summary)}\n`);
    void stop().then(() => process.exit(0));
  });
}
