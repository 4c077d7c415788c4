/**
 * The typed `/ws` client (SPEC §5): live events by topic that survive reconnects without a gap or
 * a duplicate (each subscription resumes from the last cursor it saw), and submits and cancels
 * answered once the server has made them durable.
 *
 * Requests in flight when the connection drops are rejected with MailroomConnectionError rather
 * than resent, since a resent submit could create a second job; use `idempotency_key` to retry
 * them safely.
 */
import { topicsOf } from '../app/event-bus.js';
import type { MailroomEvent } from '../schemas/events.js';
import type { JobView } from '../schemas/job.js';
import type { WorkflowView } from '../schemas/workflow.js';
import type { WireError } from '../schemas/ws.js';
import { type JobInput, MailroomConnectionError, type WorkflowInput } from './http-client.js';
import { apiError, type ConnectionOptions, ReconnectingSocket } from './ws-connection.js';

export type WsClientOptions = ConnectionOptions;

export interface SubscribeOptions {
  /** Resume after this cursor (from an earlier subscription's `cursor`). */
  since?: string | undefined;
  onEvent(event: MailroomEvent, cursor: string): void;
  /** The cursor is too old or from another epoch: refetch the state of `topic`'s resources. */
  onReset?: ((topic: string) => void) | undefined;
}

export interface ClientSubscription {
  readonly topics: readonly string[];
  /** The last position seen: pass it as `since` to resume elsewhere. */
  readonly cursor: string | undefined;
  unsubscribe(): void;
}

interface Pending {
  resolve(frame: Record<string, unknown>): void;
  reject(error: Error): void;
}

class Sub implements ClientSubscription {
  cursor: string | undefined;
  /** Highest event seq delivered: protects the listener if a resume ever overlapped. */
  lastSeq = 0;
  active = true;

  constructor(
    readonly topics: readonly string[],
    readonly options: SubscribeOptions,
    private readonly client: WsClient,
  ) {
    this.cursor = options.since;
  }

  unsubscribe(): void {
    if (!this.active) return;
    this.active = false;
    this.client.drop(this);
  }
}

export class WsClient {
  private readonly socket: ReconnectingSocket;
  private readonly pending = new Map<number, Pending>();
  private readonly subscriptions = new Map<number, Sub>();
  private nextId = 1;

  private constructor(options: WsClientOptions) {
    this.socket = new ReconnectingSocket('/ws', options, {
      onOpen: (first) => {
        if (!first) this.resubscribe();
      },
      onFrame: (frame) => this.onFrame(frame),
      onClose: (code, reason) => {
        const error = new MailroomConnectionError(
          options.url,
          new Error(`socket closed (${code} ${reason})`),
        );
        for (const pending of this.pending.values()) pending.reject(error);
        this.pending.clear();
      },
    });
  }

  static async connect(options: WsClientOptions): Promise<WsClient> {
    const client = new WsClient(options);
    try {
      await client.socket.start();
    } catch (error) {
      throw new MailroomConnectionError(options.url, error);
    }
    return client;
  }

  /** Resolves once the server confirmed the subscription; events follow through `onEvent`. */
  async subscribe(topics: readonly string[], options: SubscribeOptions): Promise<ClientSubscription> {
    const id = this.nextId++;
    const sub = new Sub(topics, options, this);
    this.subscriptions.set(id, sub);
    try {
      const reply = await this.request(id, {
        op: 'subscribe',
        id,
        topics,
        ...(sub.cursor ? { since: sub.cursor } : {}),
      });
      sub.cursor ??= reply.cursor as string;
    } catch (error) {
      this.subscriptions.delete(id);
      throw error;
    }
    return sub;
  }

  async submitJob(job: JobInput): Promise<JobView> {
    const id = this.nextId++;
    return (await this.request(id, { op: 'submit_job', id, job })).job as JobView;
  }

  async submitWorkflow(workflow: WorkflowInput): Promise<WorkflowView> {
    const id = this.nextId++;
    return (await this.request(id, { op: 'submit_workflow', id, workflow })).workflow as WorkflowView;
  }

  async cancelJob(jobId: string, reason?: string): Promise<JobView> {
    const id = this.nextId++;
    return (await this.request(id, { op: 'cancel', id, job_id: jobId, ...(reason ? { reason } : {}) }))
      .job as JobView;
  }

  async cancelWorkflow(workflowId: string, reason?: string): Promise<WorkflowView> {
    const id = this.nextId++;
    const frame = { op: 'cancel', id, workflow_id: workflowId, ...(reason ? { reason } : {}) };
    return (await this.request(id, frame)).workflow as WorkflowView;
  }

  close(): void {
    this.socket.close();
  }

  /** @internal Called by a subscription's unsubscribe. */
  drop(sub: Sub): void {
    for (const [id, candidate] of this.subscriptions) {
      if (candidate === sub) this.subscriptions.delete(id);
    }
    this.socket.send({ op: 'unsubscribe', topics: sub.topics });
  }

  private request(id: number, frame: Record<string, unknown>): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      if (!this.socket.send(frame)) {
        reject(new MailroomConnectionError('', new Error('not connected (reconnecting)')));
        return;
      }
      this.pending.set(id, { resolve, reject });
    });
  }

  private onFrame(frame: Record<string, unknown>): void {
    switch (frame.op) {
      case 'event':
        this.onEvent(frame.event as MailroomEvent, frame.cursor as string);
        return;
      case 'reset':
        for (const sub of this.subscriptions.values()) {
          if (sub.topics.includes(frame.topic as string)) sub.options.onReset?.(frame.topic as string);
        }
        return;
      case 'subscribed':
      case 'ack': {
        const pending = this.pending.get(frame.id as number);
        this.pending.delete(frame.id as number);
        pending?.resolve(frame);
        return;
      }
      case 'error': {
        const pending = this.pending.get(frame.id as number);
        this.pending.delete(frame.id as number);
        const error = frame.error as WireError;
        pending?.reject(apiError(error));
        return;
      }
    }
  }

  private onEvent(event: MailroomEvent, cursor: string): void {
    const topics = new Set(topicsOf(event));
    for (const sub of this.subscriptions.values()) {
      if (!sub.active || !sub.topics.some((topic) => topics.has(topic))) continue;
      if (event.seq !== 0) {
        if (event.seq <= sub.lastSeq) continue;
        sub.lastSeq = event.seq;
        sub.cursor = cursor;
      }
      sub.options.onEvent(event, cursor);
    }
  }

  /** After a reconnect: every subscription resumes from the last cursor it saw. */
  private resubscribe(): void {
    const subs = [...this.subscriptions.entries()];
    this.subscriptions.clear();
    for (const [, sub] of subs) {
      const id = this.nextId++;
      this.subscriptions.set(id, sub);
      this.request(id, {
        op: 'subscribe',
        id,
        topics: sub.topics,
        ...(sub.cursor ? { since: sub.cursor } : {}),
      }).then(
        (reply) => {
          sub.cursor ??= reply.cursor as string;
        },
        () => {
          // Dropped again before the server answered: the next reconnect retries from the same cursor.
        },
      );
    }
  }
}
