/**
 * Shared by the runtime unit tests: a store wrapper whose commits and loads a test can hold or fail
 * one at a time (MemoryStore's `failing` flag fails everything at once), and small async helpers.
 */
import { MailroomError } from '../../src/errors.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import type {
  ActorRecord,
  CommitEntry,
  CommitReceipt,
  EventLogInfo,
  ListOptions,
  ListPage,
  LoggedEvent,
  SnapshotStore,
  TimerRef,
} from '../../src/runtime/store/snapshot-store.js';

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets a few event-loop rounds pass (for when `system.idle()` cannot resolve, e.g. a held commit). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Observes a promise without awaiting it, so a test can assert it is still pending. */
export function track<T>(promise: Promise<T>): { settled: boolean; value?: T; error?: unknown } {
  const state: { settled: boolean; value?: T; error?: unknown } = { settled: false };
  promise.then(
    (value) => {
      state.settled = true;
      state.value = value;
    },
    (error: unknown) => {
      state.settled = true;
      state.error = error;
    },
  );
  return state;
}

type EntryTest = (entry: CommitEntry) => boolean;

/** A MemoryStore in front of which commits can be held at a gate or failed by predicate. */
export class ControlledStore implements SnapshotStore {
  readonly durable = true;
  readonly name = 'controlled';
  readonly commits: CommitEntry[][] = [];
  /** Every commit call as it was made, held or not. */
  readonly started: CommitEntry[][] = [];
  private gate: Deferred<void> | null = null;
  private commitFailures: Array<{ test: EntryTest; times: number }> = [];
  private loadFailures: Array<{ key: string; times: number }> = [];

  constructor(readonly inner: MemoryStore = new MemoryStore()) {}

  /** Holds every commit from now on until `release()`. */
  hold(): void {
    this.gate ??= deferred<void>();
  }

  release(): void {
    const gate = this.gate;
    this.gate = null;
    gate?.resolve();
  }

  /** The next `times` commits with an entry matching `test` fail as a whole (nothing is applied). */
  failCommits(test: EntryTest, times = 1): void {
    this.commitFailures.push({ test, times });
  }

  /** The next `times` loads of `kind:id` fail. */
  failLoads(kind: string, id: string, times = 1): void {
    this.loadFailures.push({ key: `${kind}:${id}`, times });
  }

  load(kind: string, id: string): Promise<ActorRecord | undefined> {
    const rule = this.loadFailures.find((r) => r.key === `${kind}:${id}` && r.times > 0);
    if (rule) {
      rule.times--;
      return Promise.reject(new MailroomError('STORE_UNAVAILABLE', 'load failed (test)'));
    }
    return this.inner.load(kind, id);
  }

  async commit(entries: readonly CommitEntry[]): Promise<CommitReceipt> {
    this.started.push([...entries]);
    if (this.gate) await this.gate.promise;
    const rule = this.commitFailures.find((r) => r.times > 0 && entries.some(r.test));
    if (rule) {
      rule.times--;
      throw new MailroomError('STORE_UNAVAILABLE', 'commit failed (test)');
    }
    this.commits.push([...entries]);
    return this.inner.commit(entries);
  }

  list(kind: string, tag: string, options: ListOptions): Promise<ListPage> {
    return this.inner.list(kind, tag, options);
  }

  count(kind: string, tag: string): Promise<number> {
    return this.inner.count(kind, tag);
  }

  loadTimers(until: number, after?: number): Promise<TimerRef[]> {
    return this.inner.loadTimers(until, after);
  }

  readEvents(afterSeq: number, limit: number): Promise<LoggedEvent[]> {
    return this.inner.readEvents(afterSeq, limit);
  }

  eventLogInfo(): Promise<EventLogInfo> {
    return this.inner.eventLogInfo();
  }

  ping(): Promise<void> {
    return this.inner.ping();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** Rejection code of a promise that must reject with a MailroomError. */
export async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof MailroomError) return error.code;
    throw error;
  }
  throw new Error('expected the promise to reject');
}
