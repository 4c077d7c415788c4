/**
 * What the payload pool's thread hop costs, against doing the same preparation inline, by payload
 * size and shape. For each size it measures the event-loop time of preparing a job submit inline
 * (decode + schema check, what the submit path does without the pool) and of handing it to the
 * pool (post the bytes, receive the result: the event loop's share of the hop), plus the hop's
 * wall time. The inline/pool threshold is where the inline cost passes the hop's event-loop cost.
 *
 *   node --import tsx bench/pool/hop-overhead.ts [--iterations 200] [--json]
 */
import { performance } from 'node:perf_hooks';
import { JobFactory } from '../../src/actors/job-factory.js';
import { loadConfig } from '../../src/config.js';
import { PayloadPool } from '../../src/runtime/pool/payload-pool.js';
import { decodeBody } from '../../src/transport/http/body.js';

const args = process.argv.slice(2);
const iterations = Number(args[args.indexOf('--iterations') + 1] || 200);
const json = args.includes('--json');

const config = loadConfig({ env: {}, overrides: { logLevel: 'silent' } }).file;
const types = [
  ...config.job_types,
  {
    name: 'records',
    input_schema: {
      type: 'object',
      properties: {
        items: {
          type: 'array',
          items: {
            type: 'object',
            properties: { id: { type: 'integer' }, name: { type: 'string' }, tags: { type: 'array' } },
            required: ['id', 'name'],
          },
        },
      },
      required: ['items'],
    },
    executor: 'remote',
  },
] as typeof config.job_types;
const factory = new JobFactory({ job_types: types });
const pool = new PayloadPool({ ...config.pool, threshold_bytes: 0, threads: 1, max_queue: 1_000 }, types);

/** `string`: one big string (checksum data). `records`: many small objects (the hard case for JSON). */
function payload(shape: 'string' | 'records', bytes: number): Buffer {
  if (shape === 'string')
    return Buffer.from(JSON.stringify({ type: 'checksum', input: { data: 'x'.repeat(bytes) } }));
  const items: unknown[] = [];
  let size = 0;
  for (let id = 0; size < bytes; id++) {
    const item = { id, name: `item-${id}`, tags: ['a', 'b'] };
    items.push(item);
    size += 40;
  }
  return Buffer.from(JSON.stringify({ type: 'records', input: { items } }));
}

function inline(body: Buffer): void {
  const spec = decodeBody(body, 'application/json') as { type: string; input: unknown };
  factory.prepareInput(spec.type, spec.input);
}

/** Event-loop active ms per operation over `n` sequential runs, and wall ms percentiles. */
async function measure(n: number, op: () => unknown) {
  const walls: number[] = [];
  const before = performance.eventLoopUtilization();
  for (let i = 0; i < n; i++) {
    const started = performance.now();
    await op();
    walls.push(performance.now() - started);
  }
  const elu = performance.eventLoopUtilization(before);
  walls.sort((a, b) => a - b);
  return {
    loopMs: elu.active / n,
    p50: walls[Math.floor(n * 0.5)]!,
    p99: walls[Math.min(n - 1, Math.floor(n * 0.99))]!,
  };
}

const sizes = [1_024, 4_096, 16_384, 65_536, 262_144, 1_048_576, 2_097_152];
const rows: Array<Record<string, number | string>> = [];
// Warm both paths (thread start, schema compile, JIT).
for (let i = 0; i < 50; i++) {
  const body = payload('records', 16_384);
  inline(body);
  await pool.prepareBody(Buffer.from(body), 'application/json', { job: true, owned: true });
}
for (const shape of ['string', 'records'] as const) {
  for (const size of sizes) {
    const body = payload(shape, size);
    const n = size >= 1_048_576 ? Math.max(20, Math.floor(iterations / 5)) : iterations;
    const inl = await measure(n, () => inline(body));
    // A fresh copy per run, as a request body would be (and transferred, so it cannot be reused).
    const copies = Array.from({ length: n }, () => Buffer.from(body));
    let next = 0;
    const hop = await measure(n, () =>
      pool.prepareBody(copies[next++]!, 'application/json', { job: true, owned: true }),
    );
    rows.push({
      shape,
      bytes: body.byteLength,
      inline_loop_us: Math.round(inl.loopMs * 1_000),
      pool_loop_us: Math.round(hop.loopMs * 1_000),
      inline_p50_us: Math.round(inl.p50 * 1_000),
      pool_wall_p50_us: Math.round(hop.p50 * 1_000),
      pool_wall_p99_us: Math.round(hop.p99 * 1_000),
    });
  }
}
await pool.close();

if (json) console.log(JSON.stringify({ node: process.version, iterations, rows }));
else {
  console.log(
    'shape    bytes       inline loop µs  pool loop µs  inline p50 µs  pool wall p50 µs  pool wall p99 µs',
  );
  for (const r of rows) {
    console.log(
      `${String(r.shape).padEnd(8)} ${String(r.bytes).padStart(9)} ${String(r.inline_loop_us).padStart(15)} ${String(r.pool_loop_us).padStart(13)} ${String(r.inline_p50_us).padStart(14)} ${String(r.pool_wall_p50_us).padStart(17)} ${String(r.pool_wall_p99_us).padStart(17)}`,
    );
  }
}
