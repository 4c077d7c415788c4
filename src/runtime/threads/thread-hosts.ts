/**
 * Builds the thread runners for every `thread:<module>` job type in the config. Module paths are
 * resolved against the working directory, as a path typed on the command line would be.
 */
import { resolve } from 'node:path';
import type { Logger } from '../../logger.js';
import type { JobTypeConfig } from '../../schemas/config.js';
import { ThreadRunner, type ThreadStats } from './thread-runner.js';

export interface ThreadHosts {
  /** Job type → its runner. */
  readonly runners: ReadonlyMap<string, ThreadRunner>;
  stats(): ThreadStats[];
  close(): Promise<void>;
}

export function createThreadHosts(
  types: readonly JobTypeConfig[],
  options: { cwd?: string; logger?: Logger } = {},
): ThreadHosts {
  const runners = new Map<string, ThreadRunner>();
  for (const type of types) {
    if (!type.executor.startsWith('thread:')) continue;
    runners.set(
      type.name,
      new ThreadRunner({
        type: type.name,
        modulePath: resolve(options.cwd ?? process.cwd(), type.executor.slice('thread:'.length)),
        threads: type.threads ?? 1,
        logger: options.logger,
      }),
    );
  }
  return {
    runners,
    stats: () => [...runners.values()].map((runner) => runner.stats()),
    close: async () => {
      await Promise.all([...runners.values()].map((runner) => runner.close()));
    },
  };
}
