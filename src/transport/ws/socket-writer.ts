/**
 * Sends frames to one socket with a bound on what may queue for it. Frames go straight to uWS
 * while its buffer is under `maxBufferedBytes`, and wait in a backlog (flushed on `drain`) when it
 * is not. A live consumer whose backlog passes the limit is a slow consumer and is closed with 1008
 * (it resumes from its last cursor) rather than letting memory grow without bound or dropping a
 * frame silently, which would leave a gap it could not see.
 *
 * A replay is different: it is read from the log only as fast as the backlog drains (`drained()`),
 * so a client far behind is fed at its own pace instead of being closed for asking for history.
 *
 * `drain` alone does not keep a backlog moving. uWS calls it only from its writable callback, not
 * when a later send flushes the buffer, and it has been seen here holding bytes it neither sent nor
 * reported drained while the client kept reading: a replay then stopped a dozen frames short, for
 * good. So while a backlog waits, a check every STALL_CHECK_MS that saw no drain pings the socket
 * (the write makes uWS try the socket again) and moves the backlog along itself.
 */
import type { WebSocket } from 'uWebSockets.js';
import type { Frame } from './codec.js';
import type { SocketData } from './handshake.js';

export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY_VIOLATION = 1008;
const STALL_CHECK_MS = 50;

export class SocketWriter {
  private backlog: Frame[] = [];
  private head = 0;
  private backlogBytes = 0;
  /** Replays in progress on this socket: their frames never count against the limit. */
  private replaying = 0;
  /** What a finished replay left in the backlog; the consumer may work through it on top of the limit. */
  private grace = 0;
  private waiters: Array<() => void> = [];
  private stallTimer: NodeJS.Timeout | null = null;
  private drainSeen = false;

  constructor(
    private readonly ws: WebSocket<SocketData>,
    private readonly maxBufferedBytes: number,
    private readonly onSlowConsumer: () => void = () => {},
  ) {}

  get closed(): boolean {
    return this.ws.getUserData().closed;
  }

  /** False when the frame will not be delivered: the socket is closed, or was just closed as too slow. */
  send(frame: Frame): boolean {
    if (this.closed) return false;
    if (this.head === this.backlog.length && this.ws.getBufferedAmount() < this.maxBufferedBytes) {
      this.write(frame);
      return true;
    }
    this.backlog.push(frame);
    this.backlogBytes += frame.length;
    this.stallTimer ??= setTimeout(this.checkStall, STALL_CHECK_MS).unref();
    if (this.replaying === 0 && this.backlogBytes > this.maxBufferedBytes + this.grace) {
      this.onSlowConsumer();
      this.close(CLOSE_POLICY_VIOLATION, 'SLOW_CONSUMER: resume with your last cursor');
      return false;
    }
    return true;
  }

  /** uWS's `drain`: the socket took some of its buffer; move the backlog along. */
  onDrain(): void {
    this.drainSeen = true;
    this.flush();
  }

  private flush(): void {
    while (this.head < this.backlog.length && !this.closed) {
      if (this.ws.getBufferedAmount() >= this.maxBufferedBytes) break;
      const frame = this.backlog[this.head]!;
      this.backlog[this.head++] = '';
      this.backlogBytes -= frame.length;
      this.write(frame);
    }
    if (this.head === this.backlog.length) {
      this.backlog = [];
      this.head = 0;
    }
    this.grace = Math.min(this.grace, this.backlogBytes);
    if (this.backlogBytes <= this.maxBufferedBytes / 2 || this.closed) this.wake();
  }

  /** Resolves once the backlog is down to half the limit (or the socket closed). */
  drained(): Promise<void> {
    if (this.backlogBytes <= this.maxBufferedBytes / 2 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  beginReplay(): void {
    this.replaying++;
  }

  endReplay(): void {
    this.replaying--;
    this.grace = Math.max(this.grace, this.backlogBytes);
  }

  close(code: number, reason: string): void {
    if (this.closed) return;
    // Marked first: end() runs the close handler synchronously, which must see the socket as gone.
    this.ws.getUserData().closed = true;
    this.backlog = [];
    this.head = 0;
    this.backlogBytes = 0;
    this.stopStallChecks();
    this.wake();
    this.ws.end(code, reason);
  }

  /** The close handler ran (either side closed): wake replays so they notice and stop. */
  onClosed(): void {
    this.backlog = [];
    this.head = 0;
    this.backlogBytes = 0;
    this.stopStallChecks();
    this.wake();
  }

  private readonly checkStall = (): void => {
    this.stallTimer = null;
    if (this.closed || this.head === this.backlog.length) return;
    if (!this.drainSeen) {
      this.ws.cork(() => {
        this.ws.ping();
      });
      this.flush();
    }
    this.drainSeen = false;
    if (this.head < this.backlog.length)
      this.stallTimer = setTimeout(this.checkStall, STALL_CHECK_MS).unref();
  };

  private stopStallChecks(): void {
    if (this.stallTimer) clearTimeout(this.stallTimer);
    this.stallTimer = null;
  }

  private write(frame: Frame): void {
    const ws = this.ws;
    ws.cork(() => {
      ws.send(frame, typeof frame !== 'string');
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}
