/**
 * Confirmations of reliable messages, held for a moment so that a reliable message going back to
 * the sender carries them (`Envelope.ack`) instead of each travelling as a message of its own.
 * A workflow step confirms its `create` and `release` and soon sends its `step_finished` back: a
 * diamond's seven confirmations to its workflow were seven messages, each a delivery and a turn.
 *
 * A confirmation is only ever held after the state that handled the message is durable, and for
 * less than the sender's redelivery time, so holding one changes when the sender's outbox empties,
 * never what is delivered: a confirmation lost with the process costs one redelivery, which the
 * receiver recognizes as a duplicate and confirms again.
 */
import type { Clock, ClockTimer } from './clock.js';

/** The cell's side: what it holds, by the key (`kind:id`) of the actor it confirms to. */
export interface AckHolder {
  readonly key: string;
  heldAcks: Map<string, number> | null;
}

export class HeldAcks {
  private readonly holders = new Set<AckHolder>();
  private timer: ClockTimer | null = null;

  constructor(
    private readonly clock: Clock,
    /** Longest hold: well within the senders' redelivery time. */
    private readonly holdMs: number,
    /** Sends one confirmation as a message of its own. */
    private readonly send: (from: string, to: string, seq: number) => void,
  ) {}

  get size(): number {
    return this.holders.size;
  }

  /** Holds `holder`'s confirmation of `seq` on the channel from `senderKey`. */
  hold(holder: AckHolder, senderKey: string, seq: number): void {
    holder.heldAcks ??= new Map();
    const held = holder.heldAcks;
    if ((held.get(senderKey) ?? 0) < seq) held.set(senderKey, seq);
    this.holders.add(holder);
    this.timer ??= this.clock.setTimeout(() => this.flush(), this.holdMs);
  }

  /** The confirmation `holder` holds for `receiverKey` (0 for none), taken to ride on a message. */
  take(holder: AckHolder, receiverKey: string): number {
    const held = holder.heldAcks;
    if (held === null) return 0;
    const seq = held.get(receiverKey);
    if (seq === undefined) return 0;
    held.delete(receiverKey);
    if (held.size === 0) holder.heldAcks = null;
    return seq;
  }

  /** Sends every held confirmation on its own. */
  flush(): void {
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    for (const holder of this.holders) {
      const held = holder.heldAcks;
      if (held === null) continue;
      holder.heldAcks = null;
      for (const [to, seq] of held) this.send(holder.key, to, seq);
    }
    this.holders.clear();
  }
}
