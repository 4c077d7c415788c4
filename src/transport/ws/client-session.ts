/**
 * One `/ws` client (SPEC §5): subscriptions with cursor resumption, submits and cancels acked once
 * durable, ping. A frame that cannot be understood gets an `error` frame and the socket stays open.
 *
 * Each `subscribe` is its own event-bus subscription (its own replay from `since`); the `subscribed`
 * reply goes out before any of its events. An event that matches several of the socket's
 * subscriptions is sent once.
 */

import type { BusDelivery, Subscription } from '../../app/event-bus.js';
import type { Mailroom } from '../../app/mailroom.js';
import { MailroomError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { JobView } from '../../schemas/job.js';
import type { WorkflowView } from '../../schemas/workflow.js';
import { ClientFrame, type ServerFrame } from '../../schemas/ws.js';
import { traceContext } from '../http/trace.js';
import { decodeFrame, type Encoding, encodeEventFrame, encodeFrame, wireError } from './codec.js';
import type { SocketWriter } from './socket-writer.js';

const CLIENT_OPS: ReadonlySet<string> = new Set(ClientFrame.options.map((option) => option.shape.op.value));
const TOPIC = /^(\*|(job|workflow|type|event|worker):[A-Za-z0-9._:-]{1,256})$/;
const MAX_SUBSCRIPTIONS = 100;
/** How many recent event positions are remembered to send an event once across overlapping subscriptions. */
const RECENT_SEQS = 4_096;

interface ActiveSubscription {
  topics: Set<string>;
  handle: Subscription | null;
}

export class ClientSession {
  private readonly subscriptions = new Set<ActiveSubscription>();
  private readonly recentSeqs = new Set<number>();
  /** The same positions in arrival order, as a ring, so the oldest is forgotten first. */
  private readonly recentOrder = new Array<number>(RECENT_SEQS).fill(-1);
  private recentNext = 0;
  private closed = false;

  constructor(
    private readonly app: Mailroom,
    private readonly writer: SocketWriter,
    private readonly encoding: Encoding,
    private readonly logger: Logger,
  ) {}

  onMessage(message: ArrayBuffer, isBinary: boolean): void {
    let frame: ClientFrame;
    try {
      frame = decodeFrame(ClientFrame, CLIENT_OPS, message, isBinary, this.encoding);
    } catch (error) {
      this.send({ op: 'error', ...requestId(message, isBinary), error: wireError(error, this.logger) });
      return;
    }
    switch (frame.op) {
      case 'ping':
        this.send(frame.id === undefined ? { op: 'pong' } : { op: 'pong', id: frame.id });
        return;
      case 'subscribe':
        void this.subscribe(frame);
        return;
      case 'unsubscribe':
        this.unsubscribe(frame.topics);
        this.send({
          op: 'unsubscribed',
          ...(frame.id === undefined ? {} : { id: frame.id }),
          topics: frame.topics,
        });
        return;
      case 'submit_job':
        this.answer(frame.id, async () => ({ job: (await this.app.submitJob(frame.job, newTrace())).job }));
        return;
      case 'submit_workflow':
        this.answer(frame.id, async () => ({
          workflow: (await this.app.submitWorkflow(frame.workflow, newTrace())).workflow,
        }));
        return;
      case 'cancel':
        this.answer(frame.id, async () =>
          frame.job_id !== undefined
            ? { job: await this.app.cancelJob(frame.job_id, frame.reason) }
            : { workflow: await this.app.cancelWorkflow(frame.workflow_id!, frame.reason) },
        );
        return;
    }
  }

  /** The socket closed: every subscription ends, answers still on their way are dropped. */
  onClose(): void {
    this.closed = true;
    for (const subscription of this.subscriptions) subscription.handle?.unsubscribe();
    this.subscriptions.clear();
  }

  private async subscribe(frame: Extract<ClientFrame, { op: 'subscribe' }>): Promise<void> {
    const id = frame.id === undefined ? {} : { id: frame.id };
    const bad = frame.topics
      .map((topic, index) => ({ topic, index }))
      .filter(({ topic }) => !TOPIC.test(topic));
    if (bad.length > 0 || this.subscriptions.size >= MAX_SUBSCRIPTIONS) {
      const error =
        bad.length > 0
          ? new MailroomError('VALIDATION_FAILED', 'unknown topic form', {
              details: bad.map(({ topic, index }) => ({
                path: `topics.${index}`,
                message: `${JSON.stringify(topic)} is not one of *, job:<id>, workflow:<id>, type:<type>, event:<event type>, worker:<id>`,
              })),
            })
          : new MailroomError('VALIDATION_FAILED', `at most ${MAX_SUBSCRIPTIONS} subscriptions per socket`);
      this.send({ op: 'error', ...id, error: wireError(error, this.logger) });
      return;
    }
    const subscription: ActiveSubscription = { topics: new Set(frame.topics), handle: null };
    this.subscriptions.add(subscription);
    this.writer.beginReplay();
    try {
      subscription.handle = await this.app.subscribe(
        frame.topics,
        frame.since,
        (delivery) => {
          if (this.subscriptions.has(subscription)) this.deliver(delivery);
        },
        {
          // `subscribed` goes out before any replayed event, and the replay follows the socket's pace.
          onStart: (cursor) => this.send({ op: 'subscribed', ...id, cursor }),
          pace: () => this.writer.drained(),
        },
      );
    } catch (error) {
      this.subscriptions.delete(subscription);
      this.send({ op: 'error', ...id, error: wireError(error, this.logger) });
      return;
    } finally {
      this.writer.endReplay();
    }
    if (this.closed || !this.subscriptions.has(subscription)) {
      // Closed, or every topic unsubscribed, while the subscription was being set up.
      subscription.handle.unsubscribe();
    }
  }

  private unsubscribe(topics: readonly string[]): void {
    for (const subscription of this.subscriptions) {
      const dropped = topics.filter((topic) => subscription.topics.delete(topic));
      if (dropped.length === 0) continue;
      if (subscription.topics.size === 0) {
        subscription.handle?.unsubscribe();
        this.subscriptions.delete(subscription);
      } else {
        subscription.handle?.removeTopics(dropped);
      }
    }
  }

  private deliver(delivery: BusDelivery): boolean {
    if (delivery.kind === 'reset') return this.send({ op: 'reset', topic: delivery.topic });
    const { seq } = delivery.event;
    if (seq !== 0 && this.subscriptions.size > 1) {
      if (this.recentSeqs.has(seq)) return true;
      this.remember(seq);
    }
    return this.writer.send(encodeEventFrame(delivery.cursor, delivery.event, this.encoding));
  }

  private remember(seq: number): void {
    this.recentSeqs.delete(this.recentOrder[this.recentNext]!);
    this.recentOrder[this.recentNext] = seq;
    this.recentNext = (this.recentNext + 1) % RECENT_SEQS;
    this.recentSeqs.add(seq);
  }

  /** Runs a request and answers `ack` (with the resource) or `error`, both carrying the request's id. */
  private answer(
    id: string | number,
    work: () => Promise<{ job: JobView } | { workflow: WorkflowView }>,
  ): void {
    work().then(
      (resource) => this.send({ op: 'ack', id, ...resource }),
      (error: unknown) => this.send({ op: 'error', id, error: wireError(error, this.logger) }),
    );
  }

  private send(frame: ServerFrame): boolean {
    if (this.closed) return false;
    return this.writer.send(encodeFrame(frame, this.encoding));
  }
}

/** The `id` of a frame that failed validation, when one can be read, so the client can match the error. */
function requestId(message: ArrayBuffer, isBinary: boolean): { id?: string | number } {
  if (isBinary) return {};
  try {
    const raw = JSON.parse(Buffer.from(message).toString('utf8')) as { id?: unknown };
    if (typeof raw?.id === 'string' || typeof raw?.id === 'number') return { id: raw.id };
  } catch {
    // Not JSON: there is no id to echo.
  }
  return {};
}

/** Each request over a socket starts its own trace, as an HTTP request without `traceparent` does. */
function newTrace(): { traceId: string } {
  return { traceId: traceContext(undefined).traceId };
}
