/**
 * Server-Sent Events: each open stream is a subscription on the app's event bus, written as
 * frames. Every event frame carries its cursor as `id`, so a reconnecting EventSource sends it back
 * as `Last-Event-ID` and the bus replays what it missed: no gap, no duplicate. A cursor the log
 * can no longer serve (too old, another epoch) gets an `event: reset` frame per topic and the
 * client refetches state. Comment lines (`: ping`) keep idle streams alive through proxies.
 *
 * Frames, in order:
 *   retry: 2000                                         (reconnect delay for EventSource)
 *   id: <start cursor> / event: subscribed / data: {"cursor", "topics"}
 *   event: reset / data: {"topic"}                      (only when the cursor could not be resumed)
 *   id: <cursor> / event: <event type> / data: <event JSON>      (replayed, then live)
 * `subscribed` carries the start position as its id, so a client that disconnects before any
 * event still resumes without a gap. A replay is read from the log at the pace the socket drains.
 */
import { Gauge, type Registry } from 'prom-client';
import type { BusDelivery, Subscription } from '../app/event-bus.js';
import type { Mailroom } from '../app/mailroom-api.js';
import { parse } from '../app/validation.js';
import { MailroomError, toMailroomError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { MailroomEvent } from '../schemas/events.js';
import { EventsQuery } from '../schemas/sse.js';
import type { HttpContext } from './http/exchange.js';
import { queryFields } from './http/params.js';
import type { Stream } from './http/stream.js';

export interface EventStreamOptions {
  logger: Logger;
  /** Between `: ping` comments on every open stream; default 15 s. */
  heartbeatMs?: number;
  /** What EventSource waits before reconnecting; default 2 s. */
  retryMs?: number;
  /** Where `mailroom_sse_streams` (streams open now) is registered. */
  registry?: Registry;
}

/** Headers of every event stream. `x-accel-buffering: no` stops nginx from holding frames back. */
export const EVENT_STREAM_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
});

const PING = ': ping\n\n';

interface Client {
  stream: Stream;
  subscription: Subscription | undefined;
}

export class EventStreams {
  private readonly clients = new Set<Client>();
  private readonly heartbeatMs: number;
  private readonly retryFrame: string;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  // A live event goes to every matching stream as the same object: serialize it once.
  private lastEvent: MailroomEvent | undefined;
  private lastFrame = '';

  constructor(
    private readonly app: Mailroom,
    private readonly options: EventStreamOptions,
  ) {
    this.heartbeatMs = options.heartbeatMs ?? 15_000;
    this.retryFrame = `retry: ${options.retryMs ?? 2_000}\n\n`;
    if (options.registry) {
      const clients = this.clients;
      new Gauge({
        name: 'mailroom_sse_streams',
        help: 'Server-Sent Event streams open now',
        registers: [options.registry],
        collect() {
          this.set(clients.size);
        },
      });
    }
  }

  /** Streams open now. */
  get size(): number {
    return this.clients.size;
  }

  /** The stream route's handler (see http/stream.ts). */
  readonly handle = async (ctx: HttpContext, stream: Stream): Promise<void> => {
    const query = parse(EventsQuery, queryFields(ctx));
    if (this.closed) throw new MailroomError('SYSTEM_STOPPED', 'The server is shutting down');
    const header = ctx.headers['last-event-id']?.trim();
    const since = header || query.last_event_id || query.since;
    if (since !== undefined && since.length > 300) {
      throw new MailroomError('VALIDATION_FAILED', 'Last-Event-ID is too long', {
        details: [{ path: 'last-event-id', message: 'must be at most 300 characters' }],
      });
    }

    // Opened before subscribing, so replayed events go straight out under the stream's
    // backpressure limit instead of piling up here first.
    stream.write(this.retryFrame);
    const client: Client = { stream, subscription: undefined };
    this.clients.add(client);
    this.startHeartbeat();
    stream.onClose(() => {
      this.clients.delete(client);
      client.subscription?.unsubscribe();
      if (this.clients.size === 0) this.stopHeartbeat();
    });

    const listener = (delivery: BusDelivery): void => {
      if (stream.closed) return;
      if (delivery.kind === 'reset') {
        stream.write(`event: reset\ndata: ${JSON.stringify({ topic: delivery.topic })}\n\n`);
        return;
      }
      stream.write(this.frame(delivery.cursor, delivery.event));
    };
    const onStart = (cursor: string): void => {
      const data = JSON.stringify({ cursor, topics: query.topics });
      stream.write(`id: ${cursor}\nevent: subscribed\ndata: ${data}\n\n`);
    };
    let subscription: Subscription;
    stream.beginReplay();
    try {
      subscription = await this.app.subscribe(query.topics, since, listener, {
        onStart,
        pace: () => stream.drained(),
      });
    } catch (error) {
      // The status line is out already; an error frame, then EventSource reconnects by itself.
      const err = toMailroomError(error);
      if (err.code === 'INTERNAL') this.options.logger.error({ err }, 'event stream: subscribe failed');
      stream.write(
        `event: error\ndata: ${JSON.stringify({ error: { code: err.code, message: err.message } })}\n\n`,
      );
      stream.end();
      return;
    } finally {
      stream.endReplay();
    }
    if (stream.closed) subscription.unsubscribe();
    else client.subscription = subscription;
  };

  /** Ends every open stream cleanly (server shutdown); new ones are refused. */
  close(): void {
    this.closed = true;
    this.stopHeartbeat();
    for (const client of [...this.clients]) {
      client.subscription?.unsubscribe();
      client.stream.end();
    }
    this.clients.clear();
  }

  private frame(cursor: string, event: MailroomEvent): string {
    if (event === this.lastEvent) return this.lastFrame;
    // Events without a log position (seq 0) get no id: it would move the client's cursor back.
    const id = event.seq === 0 ? '' : `id: ${cursor}\n`;
    // JSON escapes line breaks inside strings, so the data is always one line.
    const frame = `${id}event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
    this.lastEvent = event;
    this.lastFrame = frame;
    return frame;
  }

  private startHeartbeat(): void {
    if (this.heartbeat) return;
    this.heartbeat = setInterval(() => {
      // A blocked stream is far from idle, and a ping would only add to its buffer.
      for (const client of this.clients) if (!client.stream.blocked) client.stream.write(PING);
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }
}
