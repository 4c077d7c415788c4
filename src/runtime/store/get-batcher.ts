/**
 * Turns the GETs issued in one tick into MGETs. Activations come in bursts, and per command the
 * Redis client allocates a command object, arms a timeout timer and parses a reply; one MGET per
 * burst pays that once (with 64 to 1,024 loads in flight: about 2.5x the loads per second at a
 * third of the CPU per load). An MGET spans slots, like the group commit: no Redis Cluster.
 */

interface PendingGet {
  key: string;
  resolve: (value: Buffer | null) => void;
  reject: (error: unknown) => void;
}

export class GetBatcher {
  private pending: PendingGet[] = [];

  constructor(
    private readonly mget: (keys: string[]) => Promise<Array<Buffer | null>>,
    private readonly maxKeys = 1_000,
  ) {}

  get(key: string): Promise<Buffer | null> {
    return new Promise((resolve, reject) => {
      if (this.pending.length === 0) queueMicrotask(this.flush);
      this.pending.push({ key, resolve, reject });
    });
  }

  /**
   * Sends what is pending now. The store calls it before a write too, so a GET issued before a
   * write still reaches Redis before it, as it would without batching.
   */
  readonly flush = (): void => {
    const pending = this.pending;
    if (pending.length === 0) return;
    this.pending = [];
    for (let start = 0; start < pending.length; start += this.maxKeys) {
      const chunk = pending.length > this.maxKeys ? pending.slice(start, start + this.maxKeys) : pending;
      this.mget(chunk.map((get) => get.key)).then(
        (values) => {
          for (let i = 0; i < chunk.length; i++) chunk[i]!.resolve(values[i] ?? null);
        },
        (error: unknown) => {
          for (const get of chunk) get.reject(error);
        },
      );
    }
  };
}
