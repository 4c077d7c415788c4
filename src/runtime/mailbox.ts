/**
 * A small FIFO queue and the two-lane mailbox built from it. System messages (confirmations,
 * timer firings) are served before user messages so that runtime bookkeeping is never stuck
 * behind a long user backlog.
 */
export class Queue<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  unshift(item: T): void {
    if (this.head > 0) {
      this.head--;
      this.items[this.head] = item;
    } else {
      this.items.unshift(item);
    }
  }

  peek(): T | undefined {
    return this.head < this.items.length ? this.items[this.head] : undefined;
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head++;
    // Compact once the consumed prefix dominates, keeping shift O(1) amortized without a ring buffer.
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** True when some queued item passes `test`. */
  some(test: (item: T) => boolean): boolean {
    for (let i = this.head; i < this.items.length; i++) if (test(this.items[i] as T)) return true;
    return false;
  }

  /** Removes and returns everything queued, oldest first. */
  drain(): T[] {
    const rest = this.items.slice(this.head) as T[];
    this.items = [];
    this.head = 0;
    return rest;
  }
}

export class Mailbox<T> {
  private system: Queue<T> | null = null;
  private readonly user = new Queue<T>();

  get size(): number {
    return this.user.length + (this.system?.length ?? 0);
  }

  post(item: T): void {
    this.user.push(item);
  }

  postSystem(item: T): void {
    this.system ??= new Queue<T>();
    this.system.push(item);
  }

  /** True when a system message waiting here passes `test`. */
  someSystem(test: (item: T) => boolean): boolean {
    return this.system?.some(test) === true;
  }

  /** Puts a message back at the front of the user lane, to be retried next. */
  requeueFront(item: T): void {
    this.user.unshift(item);
  }

  next(): T | undefined {
    if (this.system && this.system.length > 0) return this.system.shift();
    return this.user.shift();
  }

  drain(): T[] {
    const system = this.system ? this.system.drain() : [];
    return system.concat(this.user.drain());
  }
}
