/**
 * `mailroom bench`: the load-test harness (bench/), with the same arguments as `npm run bench --`.
 * Loaded only when asked for, so the other commands never pull in the generator's dependencies.
 */
import { EXIT, err } from './common.js';

export async function bench(args: string[]): Promise<number> {
  let runBench: (argv: string[]) => Promise<number>;
  try {
    ({ runBench } = await import('../../bench/index.js'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    // An install without dev dependencies has no load generator (undici, BullMQ, Fastify).
    err(
      `mailroom: bench needs the development install (npm install in a checkout): ${(error as Error).message}`,
    );
    return EXIT.USAGE;
  }
  return runBench(args);
}
