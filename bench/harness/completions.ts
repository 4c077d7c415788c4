/**
 * Matches completion events to the requests that caused them: a request registers the id it got
 * back and how many deliveries it waits for (one, or one per subscriber); listeners report each
 * delivery. Deliveries may arrive before the submit's answer (the event races the ack), so early
 * ones are kept until the id is registered.
 */
export class Completions {
  private readonly waiting = new Map<string, { left: number; done: () => void }>();
  private readonly early = new Map<string, number>();
  delivered = 0;

  /** Resolves once `count` deliveries for `id` have been seen (counting any that came early). */
  wait(id: string, count: number): Promise<void> {
    const already = this.early.get(id) ?? 0;
    this.early.delete(id);
    if (already >= count) return Promise.resolve();
    return new Promise((done) => this.waiting.set(id, { left: count - already, done }));
  }

  /** One delivery of `id`'s completion to one listener. */
  seen(id: string): void {
    this.delivered++;
    const entry = this.waiting.get(id);
    if (!entry) {
      this.early.set(id, (this.early.get(id) ?? 0) + 1);
      return;
    }
    entry.left--;
    if (entry.left <= 0) {
      this.waiting.delete(id);
      entry.done();
    }
  }

  /** Requests still waiting (e.g. when a run ends with events lost). */
  get pending(): number {
    return this.waiting.size;
  }

  /** Forgets early deliveries of ids nobody registered (warm-up leftovers). */
  clearEarly(): void {
    this.early.clear();
  }
}

/** Races `promise` against a timeout that resolves to the error kind "timeout". */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
