/**
 * Live events by topic, resumable without gaps or duplicates. Every event carries its position in
 * the durable log; a subscriber with a cursor first gets the logged events after it (replay), while
 * live events that arrive meanwhile are held, then released past what the replay covered.
 *
 * Topics: `*`, `job:<id>`, `workflow:<id>` (also the workflow's step-job events), `type:<job type>`,
 * `event:<event type>`, `worker:<id>`.
 */
import type { Logger } from 'pino';
import type { EventLogInfo, SnapshotStore } from '../runtime/store/snapshot-store.js';
import type { MailroomEvent } from '../schemas/events.js';

export type BusDelivery =
  | { kind: 'event'; cursor: string; event: MailroomEvent }
  | { kind: 'reset'; topic: string };

export interface SubscribeOptions {
  /** Called once the start position is known, before any replayed event or reset is delivered. */
  onStart?: (cursor: string) => void;
  /**
   * Awaited before each page of the replay is read, so a subscriber far behind is fed at the pace
   * its consumer drains (a socket) instead of all at once.
   */
  pace?: () => Promise<void>;
}

export interface Subscription {
  /** Position the subscription starts from: pass it back as `since` to resume. */
  readonly cursor: string;
  addTopics(topics: readonly string[]): void;
  removeTopics(topics: readonly string[]): void;
  unsubscribe(): void;
}

interface Subscriber {
  topics: Set<string>;
  listener: (delivery: BusDelivery) => void;
  /** Highest seq delivered; live events at or below it are duplicates of the replay. */
  lastSeq: number;
  held: MailroomEvent[] | null;
  closed: boolean;
}

const REPLAY_PAGE = 1_000;

export function encodeCursor(epoch: string, seq: number): string {
  return `${epoch}.${seq}`;
}

export function decodeCursor(cursor: string): { epoch: string; seq: number } | null {
  const dot = cursor.lastIndexOf('.');
  if (dot <= 0) return null;
  const seq = Number(cursor.slice(dot + 1));
  if (!Number.isSafeInteger(seq) || seq < 0) return null;
  return { epoch: cursor.slice(0, dot), seq };
}

const ALL_KINDS = (_kind: string) => true;

/** `event:<type>` per event type, made once: there are a few dozen types, and every event has one. */
const EVENT_TOPICS = new Map<string, string>();

function eventTopic(type: string): string {
  let topic = EVENT_TOPICS.get(type);
  if (topic === undefined) {
    topic = `event:${type}`;
    // Types come from the events union; the cap guards against anything else.
    if (EVENT_TOPICS.size < 256) EVENT_TOPICS.set(type, topic);
  }
  return topic;
}

/**
 * The topics an event is published on. `wanted` skips the kinds (`event`, `job`, …) nobody
 * subscribes to, so publishing builds no topic string that cannot match.
 */
export function topicsOf(event: MailroomEvent, wanted: (kind: string) => boolean = ALL_KINDS): string[] {
  const topics: string[] = [];
  if (wanted('*')) topics.push('*');
  if (wanted('event')) topics.push(eventTopic(event.type));
  if ('job_type' in event) {
    if (wanted('job')) topics.push(`job:${event.job_id}`);
    if (wanted('type')) topics.push(`type:${event.job_type}`);
    if (event.workflow_id && wanted('workflow')) topics.push(`workflow:${event.workflow_id}`);
  } else if ('workflow_name' in event) {
    if (wanted('workflow')) topics.push(`workflow:${event.workflow_id}`);
  } else if ('worker_id' in event) {
    if (wanted('worker')) topics.push(`worker:${event.worker_id}`);
  }
  return topics;
}

export class EventBus {
  private readonly byTopic = new Map<string, Set<Subscriber>>();
  /** Topics with subscribers, per kind (the part before ':'). */
  private readonly kinds = new Map<string, number>();
  private readonly wanted = (kind: string) => this.kinds.has(kind);
  private epoch = '';

  constructor(
    private readonly store: SnapshotStore,
    private readonly logger?: Logger,
  ) {}

  async start(): Promise<void> {
    this.epoch = (await this.store.eventLogInfo()).epoch;
  }

  publish(event: MailroomEvent): void {
    if (this.byTopic.size === 0) return;
    // Usually one topic of an event has subscribers: the set of who was served is made only when
    // a second one does (a subscriber of two matching topics gets the event once).
    let first: Set<Subscriber> | undefined;
    let served: Set<Subscriber> | null = null;
    for (const topic of topicsOf(event, this.wanted)) {
      const subscribers = this.byTopic.get(topic);
      if (!subscribers) continue;
      if (first === undefined) {
        first = subscribers;
        continue;
      }
      if (served === null) {
        served = new Set(first);
        for (const subscriber of first) this.offer(subscriber, event);
      }
      for (const subscriber of subscribers) {
        if (served.has(subscriber)) continue;
        served.add(subscriber);
        this.offer(subscriber, event);
      }
    }
    if (first !== undefined && served === null) for (const subscriber of first) this.offer(subscriber, event);
  }

  async subscribe(
    topics: readonly string[],
    since: string | undefined,
    listener: (delivery: BusDelivery) => void,
    options: SubscribeOptions = {},
  ): Promise<Subscription> {
    const subscriber: Subscriber = {
      topics: new Set(topics),
      listener,
      lastSeq: 0,
      // Held with or without `since`: a live event delivered before the start position was known
      // could lie at or before the returned cursor, and one committed before the log was read but
      // published after would then be dropped, leaving a gap in what this subscriber saw.
      held: [],
      closed: false,
    };
    // Registered before reading the log, so nothing published from now on can be missed.
    for (const topic of subscriber.topics) this.index(topic).add(subscriber);
    let info: EventLogInfo;
    let startSeq: number;
    try {
      info = await this.store.eventLogInfo();
      startSeq = info.lastSeq;
      const position = since === undefined ? undefined : decodeCursor(since);
      const resumable =
        position !== undefined &&
        position !== null &&
        position.epoch === info.epoch &&
        position.seq >= info.firstSeq - 1 &&
        position.seq <= info.lastSeq;
      if (resumable) startSeq = position.seq;
      options.onStart?.(encodeCursor(info.epoch, startSeq));
      if (position === undefined) {
        subscriber.lastSeq = info.lastSeq;
      } else if (resumable) {
        await this.replay(subscriber, position.seq, options.pace);
      } else {
        // Older than the log keeps, from another epoch, or from the future: the client refetches state.
        for (const topic of subscriber.topics) this.deliver(subscriber, { kind: 'reset', topic });
        subscriber.lastSeq = info.lastSeq;
      }
    } catch (error) {
      // The caller gets no handle to unsubscribe with, so a registration left behind here called
      // the listener (or filled its hold) for the rest of the process's life.
      subscriber.closed = true;
      for (const topic of subscriber.topics) this.unindex(topic, subscriber);
      throw error;
    }
    const held = subscriber.held ?? [];
    subscriber.held = null;
    for (const event of held) this.offer(subscriber, event);
    return {
      cursor: encodeCursor(info.epoch, startSeq),
      addTopics: (more) => {
        for (const topic of more) {
          subscriber.topics.add(topic);
          this.index(topic).add(subscriber);
        }
      },
      removeTopics: (fewer) => {
        for (const topic of fewer) {
          subscriber.topics.delete(topic);
          this.unindex(topic, subscriber);
        }
      },
      unsubscribe: () => {
        subscriber.closed = true;
        for (const topic of subscriber.topics) this.unindex(topic, subscriber);
      },
    };
  }

  private async replay(subscriber: Subscriber, afterSeq: number, pace?: () => Promise<void>): Promise<void> {
    let after = afterSeq;
    for (;;) {
      if (pace) await pace();
      if (subscriber.closed) break;
      const page = await this.store.readEvents(after, REPLAY_PAGE);
      for (const logged of page) {
        const event = { ...(logged.event as MailroomEvent), seq: logged.seq } as MailroomEvent;
        if (topicsOf(event).some((topic) => subscriber.topics.has(topic)))
          this.deliverEvent(subscriber, event);
        else subscriber.lastSeq = Math.max(subscriber.lastSeq, logged.seq);
        after = logged.seq;
      }
      if (page.length < REPLAY_PAGE || subscriber.closed) break;
    }
    subscriber.lastSeq = Math.max(subscriber.lastSeq, after);
  }

  private offer(subscriber: Subscriber, event: MailroomEvent): void {
    if (subscriber.closed) return;
    if (subscriber.held) {
      subscriber.held.push(event);
      return;
    }
    // Events of ephemeral sources have no log position (seq 0) and are never replayed duplicates.
    if (event.seq !== 0 && event.seq <= subscriber.lastSeq) return;
    this.deliverEvent(subscriber, event);
  }

  private deliverEvent(subscriber: Subscriber, event: MailroomEvent): void {
    if (event.seq !== 0) subscriber.lastSeq = event.seq;
    this.deliver(subscriber, { kind: 'event', cursor: encodeCursor(this.epoch, event.seq), event });
  }

  private deliver(subscriber: Subscriber, delivery: BusDelivery): void {
    try {
      subscriber.listener(delivery);
    } catch (error) {
      this.logger?.error({ err: error }, 'event subscriber threw');
    }
  }

  /** Empty sets go too: a subscription per job would otherwise leave one behind per job forever. */
  private unindex(topic: string, subscriber: Subscriber): void {
    const set = this.byTopic.get(topic);
    if (!set) return;
    set.delete(subscriber);
    if (set.size > 0) return;
    this.byTopic.delete(topic);
    const kind = kindOf(topic);
    const left = (this.kinds.get(kind) ?? 1) - 1;
    if (left > 0) this.kinds.set(kind, left);
    else this.kinds.delete(kind);
  }

  private index(topic: string): Set<Subscriber> {
    let set = this.byTopic.get(topic);
    if (!set) {
      set = new Set();
      this.byTopic.set(topic, set);
      const kind = kindOf(topic);
      this.kinds.set(kind, (this.kinds.get(kind) ?? 0) + 1);
    }
    return set;
  }
}

function kindOf(topic: string): string {
  const colon = topic.indexOf(':');
  return colon < 0 ? topic : topic.slice(0, colon);
}
