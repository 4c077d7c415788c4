/**
 * Starts and drives the BullMQ peer (bullmq-server.ts) from the harness: spawn it on the same
 * Redis as Mailroom under its own key prefix, read its listen line, count completed jobs, and
 * delete its keys afterwards. QueueEvents gives completion times where a scenario needs them.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { benchModuleArgs, type Managed, spawnUntil } from '../harness/processes.js';

export interface BullmqPeer extends Managed {
  readonly url: string;
  readonly prefix: string;
  readonly queue: string;
  /** Counts by state (completed, failed, active, wait, delayed, prioritized). */
  counts(): Promise<Record<string, number>>;
  /** Stops the peer and deletes its keys. */
  close(): Promise<void>;
}

export async function startBullmqPeer(redisUrl: string, concurrency: number): Promise<BullmqPeer> {
  const prefix = `bench-bullmq-${randomBytes(4).toString('hex')}`;
  const queue = 'jobs';
  const args = [
    ...benchModuleArgs('bench/peers/bullmq-server.ts'),
    '--redis-url',
    redisUrl,
    '--prefix',
    prefix,
    '--queue',
    queue,
    '--concurrency',
    String(concurrency),
  ];
  const { managed, value } = await spawnUntil(
    process.execPath,
    args,
    (line) => {
      if (!line.startsWith('{"peer"')) return undefined;
      return (JSON.parse(line) as { url: string }).url;
    },
    { label: 'BullMQ peer' },
  );
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  return Object.assign(managed, {
    url: value,
    prefix,
    queue,
    counts: async () => {
      const res = await fetch(`${value}/counts`);
      return (await res.json()) as Record<string, number>;
    },
    close: async () => {
      await managed.stop();
      await deleteKeys(redis, `${prefix}:*`);
      redis.disconnect();
    },
  });
}

/** SCAN + UNLINK of one bench prefix, never anything else. */
export async function deleteKeys(redis: Redis, pattern: string): Promise<number> {
  if (!/^(bench-bullmq-[0-9a-f]+|bench-mailroom-[0-9a-f]+):\*$/.test(pattern)) {
    throw new Error(`refusing to delete keys matching ${pattern}`);
  }
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
