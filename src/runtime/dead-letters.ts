/**
 * Dead letters: messages that will never be handled. They go to listeners as events and to the
 * log, throttled, because a poison flood must not turn into a log flood. Deciding what becomes of
 * such a message (an ask fails, redelivered or runtime mail is not reported) lives here too, so the
 * system only says why a message was not handled.
 */
import type { Logger } from 'pino';
import type { MailroomError } from '../errors.js';
import type { ActorCell } from './cell.js';
import type { Clock } from './clock.js';
import type { Envelope } from './envelope.js';
import { SYS_USER, settleAsk } from './envelope.js';
import type { DeadLetter, DeadLetterReason } from './supervisor.js';

const LOG_EVERY_MS = 1_000;

export class DeadLetterSink {
  private readonly listeners = new Set<(letter: DeadLetter) => void>();
  private lastLogged = Number.NEGATIVE_INFINITY;
  private suppressed = 0;
  count = 0;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  listen(listener: (letter: DeadLetter) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  record(letter: DeadLetter): void {
    this.count++;
    for (const listener of this.listeners) {
      try {
        listener(letter);
      } catch (error) {
        this.logger.error({ err: error }, 'dead letter listener threw');
      }
    }
    const now = this.clock.now();
    if (now - this.lastLogged < LOG_EVERY_MS) {
      this.suppressed++;
      return;
    }
    this.logger.warn(
      {
        actor: `${letter.kind}:${letter.id}`,
        reason: letter.reason,
        error: letter.error,
        suppressed: this.suppressed,
      },
      'dead letter',
    );
    this.lastLogged = now;
    this.suppressed = 0;
  }

  /** A message that cannot be delivered: asks fail, the rest become dead letters. */
  refuse(kind: string, id: string, env: Envelope, reason: DeadLetterReason, error: MailroomError): void {
    if (env.ask && settleAsk(env.ask, (t) => this.clock.clearTimeout(t))) env.ask.reject(error);
    // Reliable messages are redelivered by their sender; runtime bookkeeping is not user mail.
    if (env.from !== null || env.sys !== SYS_USER) return;
    this.record({ type: 'dead_letter', reason, kind, id, msg: env.msg, error: error.message });
  }

  /** A message an actor gave up on (CellHost.deadLetter). */
  recordFromActor(cell: ActorCell, reason: DeadLetterReason, env: Envelope, error?: unknown): void {
    if (reason === 'gap') {
      this.logger.debug(
        { actor: cell.key, from: env.from, seq: env.seq },
        'out-of-order reliable message dropped',
      );
      return;
    }
    const letter: DeadLetter = { type: 'dead_letter', reason, kind: cell.kind, id: cell.id, msg: env.msg };
    if (error !== undefined) letter.error = error instanceof Error ? error.message : String(error);
    this.record(letter);
  }
}
