/**
 * BullMQ used natively, for the WebSocket scenarios: BullMQ has no client protocol of its own,
 * its clients talk to Redis directly, so the comparable path to "submit over /ws" is `queue.add`
 * from the client process, and to "completion event over /ws" is QueueEvents (XREAD on the
 * queue's event stream). Worker, Queue and QueueEvents each get their own ioredis connection
 * (maxRetriesPerRequest: null where BullMQ requires it), under a bench-only key prefix deleted
 * at close.
 */
import { randomBytes } from 'node:crypto';
import { type Job, Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { deleteKeys } from './bullmq.js';

export interface NativeBullmq {
  queue: Queue;
  worker: Worker | undefined;
  events: QueueEvents[];
  prefix: string;
  close(): Promise<void>;
}

export interface NativeOptions {
  /** Start a Worker that completes every job with its data, with this concurrency. */
  workerConcurrency?: number;
  /** How many QueueEvents listeners to open (fanout: one per subscriber). */
  listeners?: number;
  onCompleted?: (jobId: string) => void;
  /** Share the queue of a running peer (its prefix and name); its keys are then the peer's to delete. */
  shared?: { prefix: string; queue: string };
}

export async function openNativeBullmq(redisUrl: string, options: NativeOptions): Promise<NativeBullmq> {
  const prefix = options.shared?.prefix ?? `bench-bullmq-${randomBytes(4).toString('hex')}`;
  const name = options.shared?.queue ?? 'jobs';
  const connection = () => new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection: connection(), prefix, defaultJobOptions: { attempts: 3 } });
  const events: QueueEvents[] = [];
  for (let i = 0; i < (options.listeners ?? 0); i++) {
    const listener = new QueueEvents(name, { connection: connection(), prefix });
    if (options.onCompleted) {
      const onCompleted = options.onCompleted;
      listener.on('completed', ({ jobId }) => onCompleted(jobId));
    }
    events.push(listener);
  }
  await Promise.all(events.map((e) => e.waitUntilReady()));
  const worker =
    options.workerConcurrency === undefined
      ? undefined
      : new Worker(name, async (job: Job) => job.data, {
          connection: connection(),
          prefix,
          concurrency: options.workerConcurrency,
        });
  await worker?.waitUntilReady();
  return {
    queue,
    worker,
    events,
    prefix,
    close: async () => {
      await worker?.close();
      await Promise.all(events.map((e) => e.close()));
      await queue.close();
      if (options.shared) return;
      const client = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
      try {
        await deleteKeys(client, `${prefix}:*`);
      } finally {
        client.disconnect();
      }
    },
  };
}
