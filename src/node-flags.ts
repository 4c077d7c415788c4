/**
 * The V8 flags the server runs with: `npm start` and the `mailroom` command's shebang spell them
 * out (a test keeps the three in step), and the bench harness starts its servers and in-process
 * variants with them, so what is measured is what is served.
 *
 * `--max-semi-space-size=64` (MiB; Node 20's default grows to 16): a job allocates about 20 KB on
 * its way through, so with the default young generation the collector scavenges every ~10 ms at
 * 45k jobs/s, and every scavenge copies what is alive then (jobs in flight, records not yet
 * promoted). A larger young generation scavenges a quarter as often and lets more of a job's
 * garbage die unseen: CPU per echo job fell by a quarter, per diamond by 6 % (ratio medians 0.74
 * and 0.94, docs/benchmarks.md §15).
 * It costs up to 192 MiB of address space for the young generation.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=64'];
