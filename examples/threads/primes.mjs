/**
 * An example `thread:` job module: counts the primes below `input.limit` with a sieve, CPU-bound
 * work that would stall the event loop if it ran there. Run it with
 * `MAILROOM_CONFIG=examples/thread-config.json npm start`, then
 * `curl -XPOST localhost:8080/api/v1/jobs -H 'content-type: application/json' -d '{"type":"primes","input":{"limit":50000000}}'`.
 *
 * The contract: `setup()` runs once in each thread before its first job (warm caches, load
 * models); `handle(job, ctx)` runs one job at a time and returns its output; `ctx.progress(n)`
 * reports progress (0–100) back to the server. State kept in the module lives as long as the thread.
 */

/** Primes below 1,000, found once per thread in setup() and reused by every job. */
let smallPrimes = [];

export function setup() {
  smallPrimes = sieve(1_000);
}

export async function handle(job, ctx) {
  const limit = Number(job.input?.limit ?? 1_000_000);
  if (!Number.isInteger(limit) || limit < 2 || limit > 500_000_000) {
    throw new Error('input.limit must be an integer from 2 to 500000000');
  }
  const composite = new Uint8Array(limit);
  const root = Math.floor(Math.sqrt(limit));
  let reported = 0;
  for (let p = 2; p <= root; p++) {
    if (composite[p]) continue;
    for (let m = p * p; m < limit; m += p) composite[m] = 1;
    const done = Math.floor((p / root) * 100);
    if (done >= reported + 10) {
      reported = done;
      // Not awaited: progress is a message to the event loop, the sieve goes on meanwhile.
      void ctx.progress(done, `sieved up to ${p}`);
    }
  }
  let count = 0;
  for (let n = 2; n < limit; n++) if (!composite[n]) count++;
  return { limit, primes: count, small_primes_cached: smallPrimes.length };
}

function sieve(limit) {
  const composite = new Uint8Array(limit);
  const primes = [];
  for (let n = 2; n < limit; n++) {
    if (composite[n]) continue;
    primes.push(n);
    for (let m = n * n; m < limit; m += n) composite[m] = 1;
  }
  return primes;
}
