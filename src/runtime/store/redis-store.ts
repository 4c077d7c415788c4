/**
 * The durable store: snapshots as msgpack bytes in Redis, written with their index entries by one
 * Lua call per group commit. ioredis speaks RESP2 (v5), auto-pipelines the reads of concurrent
 * activations, and is set to fail fast when Redis is unreachable (no offline queue), so callers get
 * STORE_UNAVAILABLE at once instead of hanging.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import type { Logger } from 'pino';
import { MailroomError } from '../../errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import type { KeyBuilder } from './keys.js';
import { createKeys, parseTimerMember } from './keys.js';
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
} from './snapshot-store.js';

export interface RedisStoreOptions {
  url: string;
  prefix?: string;
  logger?: Logger;
  /** A command unanswered for this long counts as a failure (a hung Redis must not hang acks). */
  commandTimeoutMs?: number;
  /** Entries per Lua call; larger batches are split and pipelined. */
  maxEntriesPerCall?: number;
  /** Approximate number of events the log keeps (older ones are trimmed). */
  eventLogMaxLen?: number;
}

/** Both directions use plain msgpack (no record extension), so any process can read any snapshot. */
const packr = new Packr({ useRecords: false, moreTypes: false });

interface StoreCommands {
  mailroomCommit(
    numKeys: number,
    keys: string[],
    argv: Array<string | Buffer | number>,
  ): Promise<[number, number]>;
  mailroomList(key: string, ...args: Array<string | number>): Promise<string[]>;
}

type ScriptedRedis = Redis & StoreCommands;

function readScript(name: string): string {
  return readFileSync(new URL(`./lua/${name}`, import.meta.url), 'utf8');
}

export async function createRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const client = new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
  }) as ScriptedRedis;
  client.defineCommand('mailroomCommit', { lua: readScript('commit-n.lua') });
  client.defineCommand('mailroomList', { lua: readScript('list-1.lua'), numberOfKeys: 1 });
  const logger = options.logger;
  client.on('error', (error: Error) => logger?.warn({ err: error }, 'redis connection error'));
  try {
    await client.connect();
  } catch (cause) {
    client.disconnect();
    throw new MailroomError('STORE_UNAVAILABLE', `cannot connect to Redis at ${redactUrl(options.url)}`, {
      cause,
    });
  }
  const keys = createKeys(options.prefix ?? 'mailroom:');
  // The epoch names this log's lineage: if the log is lost (flushed), a new epoch invalidates old cursors.
  await client.set(keys.eventEpoch(), randomBytes(6).toString('hex'), 'NX');
  const epoch = (await client.get(keys.eventEpoch()))!;
  return new RedisStore(client, keys, {
    maxEntriesPerCall: options.maxEntriesPerCall ?? 1_000,
    eventLogMaxLen: options.eventLogMaxLen ?? 100_000,
    epoch,
  });
}

export class RedisStore implements SnapshotStore {
  readonly durable = true;
  readonly name = 'redis';

  constructor(
    readonly client: ScriptedRedis,
    readonly keys: KeyBuilder,
    private readonly settings: { maxEntriesPerCall: number; eventLogMaxLen: number; epoch: string },
  ) {}

  async load(kind: string, id: string): Promise<ActorRecord | undefined> {
    const bytes = await this.call(() => this.client.getBuffer(this.keys.snapshot(kind, id)));
    return bytes ? (packr.unpack(bytes) as ActorRecord) : undefined;
  }

  async commit(entries: readonly CommitEntry[]): Promise<CommitReceipt> {
    const calls: Promise<[number, number]>[] = [];
    const eventCounts: number[] = [];
    const step = this.settings.maxEntriesPerCall;
    for (let start = 0; start < entries.length; start += step) {
      const end = Math.min(entries.length, start + step);
      const args = this.commitArgs(entries, start, end);
      let events = 0;
      for (let i = start; i < end; i++) events += entries[i]!.events.length;
      eventCounts.push(events);
      // ioredis flattens array arguments, which avoids spreading tens of thousands of values.
      calls.push(this.client.mailroomCommit(args.keys.length, args.keys, args.argv));
    }
    const replies = await this.call(() => Promise.all(calls));
    // Within one script call the seqs are contiguous; calls may interleave with other writers.
    const eventSeqs: number[] = [];
    replies.forEach(([, firstSeq], call) => {
      for (let i = 0; i < eventCounts[call]!; i++) eventSeqs.push(firstSeq + i);
    });
    return { eventSeqs };
  }

  async readEvents(afterSeq: number, limit: number): Promise<LoggedEvent[]> {
    const reply = await this.call(() =>
      this.client.xrangeBuffer(this.keys.events(), `(${afterSeq}-0`, '+', 'COUNT', limit),
    );
    return reply.map(([id, fields]) => ({
      seq: Number.parseInt(id.toString(), 10),
      event: packr.unpack(fields[1]!),
    }));
  }

  async eventLogInfo(): Promise<EventLogInfo> {
    const [first, last] = await this.call(() =>
      Promise.all([
        this.client.xrange(this.keys.events(), '-', '+', 'COUNT', 1),
        this.client.get(this.keys.eventSeq()),
      ]),
    );
    const firstId = first[0]?.[0];
    return {
      epoch: this.settings.epoch,
      firstSeq: firstId ? Number.parseInt(firstId, 10) : 0,
      lastSeq: last ? Number(last) : 0,
    };
  }

  async list(kind: string, tag: string, options: ListOptions): Promise<ListPage> {
    const cursor = options.cursor ? decodeCursor(options.cursor) : null;
    const reply = await this.call(() =>
      this.client.mailroomList(
        this.keys.tag(kind, tag),
        options.limit,
        options.descending ? '1' : '0',
        cursor ? String(cursor.score) : '',
        cursor ? cursor.id : '',
      ),
    );
    const ids: string[] = [];
    let next: string | null = null;
    for (let i = 0; i + 1 < reply.length; i += 2) {
      if (ids.length === options.limit) {
        const lastId = ids[ids.length - 1]!;
        next = encodeCursor(Number(reply[i - 1]), lastId);
        break;
      }
      ids.push(reply[i]!);
    }
    return { ids, next };
  }

  count(kind: string, tag: string, minScore?: number): Promise<number> {
    const key = this.keys.tag(kind, tag);
    if (minScore === undefined) return this.call(() => this.client.zcard(key));
    return this.call(() => this.client.zcount(key, minScore, '+inf'));
  }

  async loadTimers(until: number): Promise<TimerRef[]> {
    const max = Number.isFinite(until) ? String(until) : '+inf';
    const reply = await this.call(() =>
      this.client.zrangebyscore(this.keys.timers(), '-inf', max, 'WITHSCORES'),
    );
    const timers: TimerRef[] = [];
    for (let i = 0; i + 1 < reply.length; i += 2) {
      const member = parseTimerMember(reply[i]!);
      if (member) timers.push({ ...member, at: Number(reply[i + 1]) });
    }
    return timers;
  }

  async ping(): Promise<void> {
    await this.call(() => this.client.ping());
  }

  async close(): Promise<void> {
    try {
      await this.client.quit();
    } catch {
      this.client.disconnect();
    }
  }

  private commitArgs(entries: readonly CommitEntry[], from: number, to: number) {
    const keys: string[] = [this.keys.timers(), this.keys.events(), this.keys.eventSeq()];
    const argv: Array<string | Buffer | number> = [to - from, this.settings.eventLogMaxLen];
    for (let i = from; i < to; i++) {
      const entry = entries[i]!;
      keys.push(this.keys.snapshot(entry.kind, entry.id));
      for (const tag of entry.removeTags) keys.push(this.keys.tag(entry.kind, tag));
      for (const tag of entry.addTags) keys.push(this.keys.tag(entry.kind, tag));
      argv.push(
        entry.record === null ? '' : packr.pack(entry.record),
        entry.score,
        entry.id,
        this.keys.timerMemberPrefix(entry.kind, entry.id),
        entry.removeTags.length,
        entry.addTags.length,
        entry.removeTimers.length,
        ...entry.removeTimers,
        entry.setTimers.length,
      );
      for (const [name, at] of entry.setTimers) argv.push(name, at);
      argv.push(entry.events.length);
      for (const event of entry.events) argv.push(packr.pack(event));
    }
    return { keys, argv };
  }

  /** Runs a command, turning any connection-level failure into STORE_UNAVAILABLE. */
  private async call<T>(command: () => Promise<T>): Promise<T> {
    try {
      return await command();
    } catch (cause) {
      if (cause instanceof MailroomError) throw cause;
      const message = cause instanceof Error ? cause.message : String(cause);
      throw new MailroomError('STORE_UNAVAILABLE', `redis: ${message}`, { cause });
    }
  }
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
