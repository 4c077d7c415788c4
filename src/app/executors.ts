/**
 * Which executor runs each job type in this server: the builtin handlers, remote workers and any
 * adapters passed in, the types none of them can run (refused at submit), and what the dispatcher
 * needs to know per type (its executor, concurrency and rate).
 */
import { BuiltinExecutor } from '../actors/executors/builtin.js';
import type { Executor } from '../actors/executors/executor.js';
import type { RemoteExecutor } from '../actors/executors/remote.js';
import type { Clock } from '../runtime/clock.js';
import { EncodedInput } from '../runtime/pool/encoded-input.js';
import type { FileConfig } from '../schemas/config.js';
import type { MailroomOptions } from './mailroom-api.js';

export interface WiredExecutors {
  /** By adapter name: `builtin`, `remote`, and the names of adapters passed in (`thread:x`, `http:y`). */
  executors: Record<string, Executor>;
  /** Job type → its configured executor, for types whose adapter this server lacks. */
  unavailable: ReadonlyMap<string, string>;
}

export function wireExecutors(
  config: FileConfig,
  remote: RemoteExecutor,
  clock: Clock,
  options: Pick<MailroomOptions, 'offload' | 'executors'>,
): WiredExecutors {
  const executors: Record<string, Executor> = {
    builtin: new BuiltinExecutor(clock, builtinHandlers(config), options.offload),
    remote: withPlainInput(remote),
    ...Object.fromEntries(
      Object.entries(options.executors ?? {}).map(([name, executor]) => [name, withPlainInput(executor)]),
    ),
  };
  // Types whose executor adapter this server lacks (thread:/http: before their adapters exist)
  // would wait in the queue forever; they are refused at submit instead.
  const unavailable = new Map(
    config.job_types
      .filter((type) => !executors[executorName(type.executor)])
      .map((type) => [type.name, type.executor] as const),
  );
  return { executors, unavailable };
}

/** Each type as the dispatcher schedules it. */
export function dispatchedTypes(config: FileConfig) {
  return config.job_types.map((type) => ({
    name: type.name,
    executor: executorName(type.executor),
    ...concurrencyOf(type),
    ...(type.rate === undefined ? {} : { rate: type.rate }),
  }));
}

/**
 * Executors other than the builtin one get a job's input as a value: one kept as JSON text
 * (encoded-input.ts) is decoded here, when the job is dispatched, and only for that attempt.
 */
function withPlainInput(executor: Executor): Executor {
  return {
    name: executor.name,
    start: (assignment, sink) =>
      executor.start(
        assignment.input instanceof EncodedInput
          ? { ...assignment, input: assignment.input.value() }
          : assignment,
        sink,
      ),
    cancel: (target, reason) => executor.cancel(target, reason),
  };
}

/** Job type → builtin handler name (`builtin:<handler>`), so a type may reuse a handler under its own name. */
function builtinHandlers(config: FileConfig): Record<string, string> {
  const handlers: Record<string, string> = {};
  for (const type of config.job_types) {
    if (type.executor.startsWith('builtin:')) handlers[type.name] = type.executor.slice('builtin:'.length);
  }
  return handlers;
}

/**
 * A `thread:` type runs at most `threads` jobs at once here (one per thread): the dispatcher holds
 * the rest in the queue, so an attempt's timeout never counts time spent waiting for a thread.
 */
function concurrencyOf(type: FileConfig['job_types'][number]): { concurrency?: number } {
  const threads = type.executor.startsWith('thread:') ? (type.threads ?? 1) : undefined;
  const limit = Math.min(type.concurrency ?? Number.POSITIVE_INFINITY, threads ?? Number.POSITIVE_INFINITY);
  return Number.isFinite(limit) ? { concurrency: limit } : {};
}

/** `builtin:echo` → builtin, `remote` → remote, `thread:x` / `http:y` → the adapter named by the whole string. */
function executorName(executor: string): string {
  if (executor.startsWith('builtin:')) return 'builtin';
  return executor;
}
