/**
 * Dead letters: messages that will never be handled. They go to listeners as events and to the
 * log, throttled, because a poison flood must not turn into a log flood.
 */
import type { Logger } from 'pino';
import type { Clock } from './clock.js';
import type { DeadLetter } from './supervisor.js';

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
}
