/**
 * What recording one HTTP request in the metrics costs the event loop: prom-client's labelled
 * Counter.inc + Histogram.observe (children cached) against the plain counters of
 * src/transport/http-metrics.ts, both fed the same four route patterns. Prints ns per request.
 *
 *   node --import tsx bench/http/metrics-cost.ts [--requests 2000000] [--rounds 5]
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Counter, Histogram, Registry } from 'prom-client';
import { HttpMetrics } from '../../src/transport/http-metrics.js';

const { values } = parseArgs({
  options: { requests: { type: 'string', default: '2000000' }, rounds: { type: 'string', default: '5' } },
});
const N = Number(values.requests);
const ROUNDS = Number(values.rounds);
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const ROUTES = ['/api/v1/jobs/:id', '/api/v1/jobs', '/api/v1/stats', ''];

const registry = new Registry();
const counter = new Counter({
  name: 'c_total',
  help: 'c',
  labelNames: ['method', 'route', 'status'],
  registers: [registry],
});
const histogram = new Histogram({
  name: 'h',
  help: 'h',
  labelNames: ['method', 'route'],
  buckets: BUCKETS,
  registers: [registry],
});
const children = ROUTES.map((route) => ({
  count: counter.labels({ method: 'GET', route, status: '200' }),
  duration: histogram.labels({ method: 'GET', route }),
}));
const plain = new HttpMetrics(new Registry(), BUCKETS);

function time(run: () => void): number {
  const start = performance.now();
  run();
  return ((performance.now() - start) * 1e6) / N;
}

console.log('round | prom-client ns/request | plain counters ns/request');
for (let round = 1; round <= ROUNDS; round++) {
  const prom = time(() => {
    for (let i = 0; i < N; i++) {
      const child = children[i & 3]!;
      child.count.inc();
      child.duration.observe(0.0003);
    }
  });
  const own = time(() => {
    for (let i = 0; i < N; i++) plain.record('GET', ROUTES[i & 3]!, 200, 0.0003);
  });
  console.log(`${round} | ${prom.toFixed(0)} | ${own.toFixed(0)}`);
}
// The scrape still prints both (and keeps the loops from being optimized away).
const text = await registry.metrics();
console.log(`prom-client exposition: ${text.length} bytes`);
