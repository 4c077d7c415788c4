/**
 * A Mailroom for job and dispatcher tests: the real in-process API on the memory store (or a given
 * store) with a simulated clock, plus a recorder of every event delivered to a `*` subscriber.
 */
import { expect } from 'vitest';
import { createMailroom, type Mailroom, type MailroomOptions } from '../../../src/app/mailroom.js';
import { loadConfig } from '../../../src/config.js';
import { MailroomError } from '../../../src/errors.js';
import { SimulatedClock } from '../../../src/runtime/clock.js';
import { MemoryStore } from '../../../src/runtime/store/memory-store.js';
import type { SnapshotStore } from '../../../src/runtime/store/snapshot-store.js';
import { FileConfig } from '../../../src/schemas/config.js';
import { MailroomEvent } from '../../../src/schemas/events.js';

export const START = 1_700_000_000_000;
export const defaultFile = loadConfig({ env: {} }).file;

/** The default config plus extra job types (raw JSON, defaults applied by the schema). */
export function configWith(extraTypes: unknown[] = [], extra: Record<string, unknown> = {}): FileConfig {
  return FileConfig.parse({
    ...extra,
    job_types: [...defaultFile.job_types.map((type) => ({ ...type })), ...extraTypes],
  });
}

export class EventRecorder {
  readonly events: MailroomEvent[] = [];

  /** The log position the first recorded event must have (the log's end when recording began). */
  constructor(readonly firstSeq = 1) {}

  push(event: MailroomEvent): void {
    // Every delivered event must be a valid member of the one union (SPEC §4).
    MailroomEvent.parse(event);
    this.events.push(event);
  }

  forJob(jobId: string): MailroomEvent[] {
    return this.events.filter((e) => 'job_id' in e && e.job_id === jobId);
  }

  typesFor(jobId: string): string[] {
    return this.forJob(jobId).map((e) => e.type);
  }

  ofType<T extends MailroomEvent['type']>(type: T): Extract<MailroomEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<MailroomEvent, { type: T }> => e.type === type);
  }

  /** Seqs are strictly increasing by one: no gap, no duplicate, nothing out of order. */
  expectContiguous(first = this.firstSeq): void {
    const seqs = this.events.map((e) => e.seq);
    expect(seqs).toEqual(seqs.map((_, i) => first + i));
    expect(new Set(this.events.map((e) => e.id)).size).toBe(this.events.length);
  }
}

export interface Harness {
  app: Mailroom;
  clock: SimulatedClock;
  store: SnapshotStore;
  events: EventRecorder;
  /** Advances simulated time, then lets every actor, commit and due timer run to quiescence. */
  settle(ms?: number): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions extends Partial<Omit<MailroomOptions, 'clock'>> {
  clock?: SimulatedClock;
}

export async function startApp(options: HarnessOptions = {}): Promise<Harness> {
  const clock = options.clock ?? new SimulatedClock(START);
  const store = options.store ?? new MemoryStore();
  const app = await createMailroom({
    ...options,
    store,
    clock,
    config: options.config ?? configWith(),
  });
  const events = new EventRecorder((await store.eventLogInfo()).lastSeq + 1);
  const subscription = await app.subscribe(['*'], undefined, (delivery) => {
    if (delivery.kind === 'event') events.push(delivery.event);
  });
  const settle = async (ms = 0) => {
    clock.advance(ms);
    // Effects of a turn may arm timers due right now (zero backoff, lease hand-offs): fire them too.
    for (let round = 0; round < 6; round++) {
      await app.system.idle();
      clock.advance(0);
    }
    await app.system.idle();
  };
  return {
    app,
    clock,
    store,
    events,
    settle,
    close: async () => {
      subscription.unsubscribe();
      await app.shutdown();
      // Whatever a test did, its subscriber saw every logged event once, in order.
      events.expectContiguous();
    },
  };
}

/** The MailroomError a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<MailroomError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(MailroomError);
    return error as MailroomError;
  }
  throw new Error('expected the call to reject');
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
