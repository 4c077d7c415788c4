/**
 * For tests that need server options the process wiring does not expose (small stream buffers,
 * fast heartbeats) or the server object itself (its route list): the Mailroom app on the memory
 * store behind `createServer`, listening on port 0. Plus a Server-Sent Events reader over fetch.
 */
import { createMailroom, type Mailroom } from '../../src/app/mailroom.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import { createServer, type HttpServerOptions, type MailroomServer } from '../../src/transport/server.js';

export interface DirectServer {
  base: string;
  app: Mailroom;
  server: MailroomServer;
  stop(): Promise<void>;
}

export async function startDirectServer(
  options: { apiKeys?: readonly string[]; events?: HttpServerOptions['events'] } = {},
): Promise<DirectServer> {
  const config = loadConfig({ env: {} });
  const store = new MemoryStore();
  const logger = createLogger({ level: 'silent' });
  const app = await createMailroom({ store, config: config.file, logger });
  const server = createServer({
    logger,
    storeName: store.name,
    ready: () => store.ping(),
    app,
    maxBodyBytes: config.file.max_body_bytes,
    apiKeys: options.apiKeys ?? [],
    rateLimit: config.file.rate_limit,
    ...(options.events ? { events: options.events } : {}),
  });
  const port = await server.listen('127.0.0.1', 0);
  return {
    base: `http://127.0.0.1:${port}`,
    app,
    server,
    stop: async () => {
      server.close();
      await app.shutdown();
      await store.close();
    },
  };
}

export interface Frame {
  id?: string;
  event?: string;
  data?: string;
  retry?: string;
}

/**
 * An SSE client as EventSource parses (frames end at a blank line; a cut-off frame is never
 * dispatched; comments are counted apart), reading a fetch body as it streams.
 */
export class SseReader {
  readonly frames: Frame[] = [];
  comments = 0;
  ended = false;
  failed: unknown = null;
  /** The id of the last dispatched frame that had one (what EventSource sends back as Last-Event-ID). */
  lastEventId: string | undefined;
  private buffer = '';
  private readonly waiters = new Set<() => void>();

  constructor(
    readonly response: Response,
    private readonly controller: AbortController,
  ) {
    void this.pump();
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    const controller = new AbortController();
    const response = await fetch(url, { headers, signal: controller.signal });
    return new SseReader(response, controller);
  }

  /** Frames of one event type, their data parsed. */
  // biome-ignore lint/suspicious/noExplicitAny: tests read event fields directly.
  events(type?: string): any[] {
    return this.frames
      .filter((f) => f.data !== undefined && (type === undefined || f.event === type))
      .map((f) => JSON.parse(f.data as string));
  }

  /** Resolves once `ready()` holds, or rejects after `timeoutMs`. */
  async until(ready: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
    if (ready()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; frames: ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      const check = () => {
        if (ready() || this.ended) {
          clearTimeout(timer);
          this.waiters.delete(check);
          if (ready()) resolve();
          else reject(new Error(`stream ended while waiting for ${what}`));
        }
      };
      this.waiters.add(check);
    });
  }

  /** Goes away like a client that disconnects mid-stream. */
  close(): void {
    this.controller.abort();
  }

  private async pump(): Promise<void> {
    const reader = this.response.body?.getReader();
    if (!reader) return;
    const decoder = new TextDecoder();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        this.feed(decoder.decode(value, { stream: true }));
      }
    } catch (error) {
      this.failed = error;
    }
    this.ended = true;
    this.notify();
  }

  private feed(text: string): void {
    this.buffer += text;
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const frame: Frame = {};
      let fields = 0;
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) {
          this.comments++;
          continue;
        }
        const colon = line.indexOf(':');
        const name = line.slice(0, colon);
        const value = line.slice(colon + 1).replace(/^ /, '');
        if (name === 'id' || name === 'event' || name === 'data' || name === 'retry') {
          frame[name] = value;
          fields++;
        }
      }
      if (fields === 0) continue;
      if (frame.id !== undefined) this.lastEventId = frame.id;
      this.frames.push(frame);
    }
    this.notify();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}
