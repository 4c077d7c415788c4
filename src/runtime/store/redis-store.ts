/**
 * The durable store: snapshots as msgpack bytes in Redis, written with their index entries by one
 * Lua call per group commit. Concurrent activations' reads share MGETs (get-batcher.ts). ioredis
 * speaks RESP2 (v5) and is set to fail fast when Redis is unreachable (no offline queue), so
 * callers get STORE_UNAVAILABLE at once instead of hanging. Its auto-pipelining is off: this store
 * batches on its own, and an auto-pipeline waits for the previous one's replies before it sends,
 * which allowed one group commit in flight instead of several.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { Packr } from 'msgpackr';
import type { Logger } from 'pino';
import { MailroomError } from '../../errors.js';
import type { StateCodec } from '../actor.js';
import { commitArgs } from './commit-args.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { GetBatcher } from './get-batcher.js';
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
  TimerRemoval,
} from './snapshot-store.js';
import { recordFromStored } from './stored-record.js';

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
  /** Timers read per round trip by loadTimers. */
  timersPerRead?: number;
}

/** Both directions use plain msgpack (no record extension), so any process can read any snapshot. */
const packr = new Packr({ useRecords: false, moreTypes: false });

interface StoreCommands {
  mailroomCommit(
    timers: string,
    events: string,
    eventSeq: string,
    removalTimers: string,
    prefix: string,
    eventLogMaxLen: number,
    fields: Buffer,
    blob: Buffer,
    eventCount: number,
  ): Promise<[number, number]>;
  mailroomList(key: string, ...args: Array<string | number>): Promise<string[]>;
  mailroomRemove(
    removalTimers: string,
    timers: string,
    prefix: string,
    ...firings: string[]
  ): Promise<number[]>;
  mailroomDueRemovals(
    removalTimers: string,
    after: string,
    afterMember: string,
    until: string,
    limit: number,
  ): Promise<string[]>;
}

/** remove-2.lua's outcome codes. */
const REMOVAL_OUTCOMES: readonly TimerRemoval[] = ['stale', 'removed', 'held'];
/** Firings per removal script call: each call's argument lists stay well inside Lua's stack. */
const FIRINGS_PER_REMOVAL_CALL = 500;

type ScriptedRedis = Redis & StoreCommands;

function readScript(name: string): string {
  return readFileSync(new URL(`./lua/${name}`, import.meta.url), 'utf8');
}

export async function createRedisStore(options: RedisStoreOptions): Promise<RedisStore> {
  const client = new Redis(options.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    enableAutoPipelining: false,
    maxRetriesPerRequest: 1,
    commandTimeout: options.commandTimeoutMs ?? 5_000,
    retryStrategy: (attempt) => Math.min(50 * attempt, 1_000),
  }) as ScriptedRedis;
  client.defineCommand('mailroomCommit', { lua: readScript('commit-4.lua'), numberOfKeys: 4 });
  client.defineCommand('mailroomList', { lua: readScript('list-1.lua'), numberOfKeys: 1 });
  client.defineCommand('mailroomRemove', { lua: readScript('remove-2.lua'), numberOfKeys: 2 });
  client.defineCommand('mailroomDueRemovals', { lua: readScript('due-removals-1.lua'), numberOfKeys: 1 });
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
    timersPerRead: options.timersPerRead ?? 10_000,
    epoch,
  });
}

export class RedisStore implements SnapshotStore {
  readonly durable = true;
  readonly name = 'redis';
  private readonly gets = new GetBatcher((keys) => this.call(() => this.client.mgetBuffer(keys)));
  private readonly codecs = new Map<string, StateCodec>();
  /** kind → the names of its removal timers, filed in a set of their own. */
  private readonly removalNames = new Map<string, ReadonlySet<string>>();
  private eventCodec: StateCodec | null = null;

  constructor(
    readonly client: ScriptedRedis,
    readonly keys: KeyBuilder,
    private readonly settings: {
      maxEntriesPerCall: number;
      eventLogMaxLen: number;
      timersPerRead: number;
      epoch: string;
    },
  ) {}

  useCodec(kind: string, codec: StateCodec): void {
    this.codecs.set(kind, codec);
  }

  useEventCodec(codec: StateCodec): void {
    this.eventCodec = codec;
  }

  useRemovalTimers(kind: string, names: readonly string[]): void {
    this.removalNames.set(kind, new Set(names));
  }

  async load(kind: string, id: string): Promise<ActorRecord | undefined> {
    const bytes = await this.gets.get(this.keys.snapshot(kind, id));
    if (!bytes) return undefined;
    const record = recordFromStored(packr.unpackMultiple(bytes) as unknown[]);
    const codec = this.codecs.get(kind);
    if (codec) record.state = codec.decode(record.state);
    return record;
  }

  async commit(entries: readonly CommitEntry[]): Promise<CommitReceipt> {
    this.gets.flush();
    const calls: Promise<[number, number]>[] = [];
    const eventCounts: number[] = [];
    const forms = { codecs: this.codecs, eventCodec: this.eventCodec, removalNames: this.removalNames };
    const step = this.settings.maxEntriesPerCall;
    for (let start = 0; start < entries.length; start += step) {
      const end = Math.min(entries.length, start + step);
      const batch = commitArgs(packr, entries, start, end, forms);
      eventCounts.push(batch.events);
      calls.push(
        this.client.mailroomCommit(
          this.keys.timers(),
          this.keys.events(),
          this.keys.eventSeq(),
          this.keys.removalTimers(),
          this.keys.prefix,
          this.settings.eventLogMaxLen,
          batch.fields,
          batch.blob,
          batch.events,
        ),
      );
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
    // A stream entry holds the events of one commit call, and its id is the seq of the first:
    // the entry that may hold afterSeq + 1 starts at or before it, the rest start after it.
    // Entries hold from one event to thousands, so the later ones are read a few at a time, as
    // many as the events per entry seen so far say are still needed, not `limit` entries at once.
    const key = this.keys.events();
    const next = `${afterSeq + 1}-0`;
    let count = Math.min(limit, 16);
    const [holding, first] = await this.call(() =>
      Promise.all([
        this.client.xrevrangeBuffer(key, next, '-', 'COUNT', 1),
        this.client.xrangeBuffer(key, `(${next}`, '+', 'COUNT', count),
      ]),
    );
    const read: LoggedEvent[] = [];
    let entries = 0;
    let events = 0;
    const take = (page: Array<[Buffer, Buffer[]]>) => {
      for (const [id, fields] of page) {
        if (read.length === limit) return;
        const firstSeq = Number.parseInt(id.toString(), 10);
        const decoded = packr.unpackMultiple(fields[1]!) as unknown[];
        entries++;
        events += decoded.length;
        for (let i = 0; i < decoded.length && read.length < limit; i++) {
          if (firstSeq + i <= afterSeq) continue;
          const event = this.eventCodec ? this.eventCodec.decode(decoded[i]) : decoded[i];
          read.push({ seq: firstSeq + i, event });
        }
      }
    };
    take(holding);
    take(first);
    let page = first;
    while (read.length < limit && page.length === count) {
      const last = page[page.length - 1]![0].toString();
      const perEntry = entries > 0 ? Math.max(1, events / entries) : 1;
      count = Math.min(1_024, Math.ceil((limit - read.length) / perEntry) + 1);
      page = await this.call(() => this.client.xrangeBuffer(key, `(${last}`, '+', 'COUNT', count));
      take(page);
    }
    return read;
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
    const scores: number[] = [];
    let next: string | null = null;
    for (let i = 0; i + 1 < reply.length; i += 2) {
      if (ids.length === options.limit) {
        next = encodeCursor(scores[scores.length - 1]!, ids[ids.length - 1]!);
        break;
      }
      ids.push(reply[i]!);
      scores.push(Number(reply[i + 1]));
    }
    return { ids, scores, next };
  }

  count(kind: string, tag: string, minScore?: number): Promise<number> {
    const key = this.keys.tag(kind, tag);
    if (minScore === undefined) return this.call(() => this.client.zcard(key));
    return this.call(() => this.client.zcount(key, minScore, '+inf'));
  }

  async loadTimers(until: number, after?: number): Promise<TimerRef[]> {
    const max = Number.isFinite(until) ? String(until) : '+inf';
    let min = after === undefined || !Number.isFinite(after) ? '-inf' : `(${after}`;
    /** Members at score `min` already read (pages resume from the last score read, not by offset). */
    let skip = 0;
    const page = this.settings.timersPerRead;
    const timers: TimerRef[] = [];
    // In pages, each its own round trip: a day-old server loads a minute of retention timers at
    // once, and one reply that size would hold Redis and then this event loop for its whole length.
    // Each page starts at the last score the previous one read: Redis walks a LIMIT offset from the
    // start of the range, so paging by offset made the 50th page of half a million walk 490k members.
    for (;;) {
      const reply = await this.call(() =>
        this.client.zrangebyscore(this.keys.timers(), min, max, 'WITHSCORES', 'LIMIT', skip, page),
      );
      readTimers(reply, timers);
      if (reply.length < 2 * page) return timers;
      const last = reply[reply.length - 1]!;
      let atLast = 0;
      for (let i = reply.length - 1; i > 0 && reply[i] === last; i -= 2) atLast++;
      // A whole page at the score it started from: the next one skips those as well.
      skip = last === min ? skip + atLast : atLast;
      min = last;
    }
  }

  async removeByTimer(firings: readonly TimerRef[]): Promise<TimerRemoval[]> {
    const calls: Promise<number[]>[] = [];
    for (let start = 0; start < firings.length; start += FIRINGS_PER_REMOVAL_CALL) {
      const args: string[] = [];
      const end = Math.min(firings.length, start + FIRINGS_PER_REMOVAL_CALL);
      for (let i = start; i < end; i++) {
        const { kind, id, name, at } = firings[i]!;
        args.push(kind, id, name, String(at));
      }
      calls.push(
        this.client.mailroomRemove(this.keys.removalTimers(), this.keys.timers(), this.keys.prefix, ...args),
      );
    }
    const replies = await this.call(() => Promise.all(calls));
    return replies.flat().map((code) => REMOVAL_OUTCOMES[code]!);
  }

  async loadRemovalTimers(until: number, after: TimerRef | null, limit: number): Promise<TimerRef[]> {
    const reply = await this.call(() =>
      this.client.mailroomDueRemovals(
        this.keys.removalTimers(),
        after ? String(after.at) : '-inf',
        after ? this.keys.timerMember(after.kind, after.id, after.name) : '',
        Number.isFinite(until) ? String(until) : '+inf',
        limit,
      ),
    );
    return readTimers(reply, []);
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

/** Adds the timers of a timer set's `WITHSCORES` reply (member, deadline, …) to `timers`. */
function readTimers(reply: readonly string[], timers: TimerRef[]): TimerRef[] {
  for (let i = 0; i + 1 < reply.length; i += 2) {
    const member = parseTimerMember(reply[i]!);
    if (member) timers.push({ ...member, at: Number(reply[i + 1]) });
  }
  return timers;
}

function redactUrl(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
