/**
 * Streaming responses (Server-Sent Events) on uWS, with the same rules as the request/response
 * exchange: onAborted first, everything copied from HttpRequest before the handler runs (it may
 * await), writes only inside `res.cork`, nothing touches `res` after an abort or the end. The
 * request still goes through the front (auth, rate limit, routing) and may be answered with a
 * plain reply before the stream opens; once open, the handler writes text chunks.
 *
 * Backpressure: uWS `write` keeps what the socket would not take and returns false. From then on
 * chunks wait here until `onWritable`; past `maxBufferedBytes` the connection is closed, and the
 * client resumes from the last event it received (SSE `Last-Event-ID`). A replay of history is
 * paced instead (`drained()`), so a client far behind is not closed for asking for it.
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { MailroomError, toMailroomError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { errorReply, type Front, type HttpContext, type HttpHandler, type HttpReply } from './exchange.js';
import type { Router } from './router.js';
import { formatTraceparent, traceContext } from './trace.js';

export interface Stream {
  /** False once the stream is closed (client gone, buffer limit passed, or ended): stop writing. */
  write(chunk: string): boolean;
  /** Ends the response cleanly (what is buffered is sent first). */
  end(): void;
  /** Runs once when the stream closes for any reason. */
  onClose(listener: () => void): void;
  readonly closed: boolean;
  /** True while the socket does not keep up and chunks wait in the buffer. */
  readonly blocked: boolean;
  /**
   * Marks a replay of history: while one runs, its chunks do not count against the limit (the
   * replay is read only as fast as `drained()` allows instead).
   */
  beginReplay(): void;
  endReplay(): void;
  /** Resolves once the socket has taken everything written so far (or the stream closed). */
  drained(): Promise<void>;
}

/**
 * Runs once per request. Throwing (or rejecting) before the first write answers with the
 * registry error shape instead of opening the stream; after it, the stream is ended.
 */
export type StreamHandler = (ctx: HttpContext, stream: Stream) => void | Promise<void>;

export interface StreamOptions {
  logger: Logger;
  /** Bytes held for a client that does not keep up before its connection is closed. */
  maxBufferedBytes: number;
  /** Status line headers of every opened stream (content type and caching). */
  headers: Readonly<Record<string, string>>;
  /** Told of each request once it is answered or its stream opened (metrics). */
  observe?: (method: string, route: string, status: number) => void;
}

const streamHandlers = new WeakMap<HttpHandler, StreamHandler>();

/**
 * Registers a streaming GET route. The router learns the path (so other methods get 405, and the
 * route list the OpenAPI document is checked against includes it); the uWS app must send the
 * path's requests to `serveStream`, which runs `handler`.
 */
export function addStreamRoute(router: Router, pattern: string, handler: StreamHandler): void {
  // Reached only if a request for this path took the request/response path instead.
  const placeholder: HttpHandler = () => {
    throw new MailroomError('NOT_FOUND', `${pattern} is an event stream: open it with GET`);
  };
  streamHandlers.set(placeholder, handler);
  router.add('GET', pattern, placeholder);
}

/** Serves one request to a streaming route. Call from the uWS route callback. */
export function serveStream(res: HttpResponse, req: HttpRequest, front: Front, options: StreamOptions): void {
  const conn = new Connection(res, options);
  res.onAborted(() => conn.aborted());
  const headers: Record<string, string> = {};
  req.forEach((key, value) => {
    headers[key] = value;
  });
  const query = req.getQuery() ?? '';
  // EventSource cannot set headers: its key may come as `?key=`, on streams only (elsewhere a
  // key in the URL would end up in proxy and access logs for no reason).
  if (headers['x-api-key'] === undefined && headers.authorization === undefined && query.includes('key=')) {
    const key = new URLSearchParams(query).get('key');
    if (key) headers['x-api-key'] = key;
  }
  const incoming = headers['x-request-id'];
  let params: Readonly<Record<string, string>> = {};
  const ctx: HttpContext = {
    method: req.getMethod().toUpperCase(),
    path: req.getUrl(),
    query,
    headers,
    requestId: incoming && /^[\x21-\x7e]{1,128}$/.test(incoming) ? incoming : randomUUID(),
    trace: traceContext(headers.traceparent),
    get params() {
      return params;
    },
    body: undefined,
    get aborted() {
      return conn.isAborted;
    },
  };
  conn.ctx = ctx;

  let decision: ReturnType<Front>;
  try {
    decision = front(ctx);
  } catch (error) {
    decision = errorReply(error, options.logger);
  }
  if (!('handler' in decision)) {
    conn.reply(decision);
    return;
  }
  const handler = streamHandlers.get(decision.handler);
  conn.route = decision.pattern ?? '';
  if (!handler) {
    conn.reply(errorReply(new MailroomError('NOT_FOUND', 'No such event stream')));
    return;
  }
  params = decision.params;
  try {
    const result = handler(ctx, conn);
    if (result instanceof Promise) result.catch((error: unknown) => conn.fail(error));
  } catch (error) {
    conn.fail(error);
  }
}

class Connection implements Stream {
  ctx!: HttpContext;
  route = '';
  isAborted = false;
  closed = false;
  blocked = false;
  private opened = false;
  private queue: string[] = [];
  private queuedBytes = 0;
  private replaying = 0;
  /** What a finished replay left queued; the client may work through it on top of the limit. */
  private grace = 0;
  private waiters: Array<() => void> = [];
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly res: HttpResponse,
    private readonly options: StreamOptions,
  ) {}

  write(chunk: string): boolean {
    if (this.closed) return false;
    if (this.blocked) {
      this.queue.push(chunk);
      // String length undercounts multi-byte text, which only makes the limit a little laxer.
      this.queuedBytes += chunk.length;
      if (this.replaying === 0 && this.queuedBytes > this.options.maxBufferedBytes + this.grace) {
        this.options.logger.info(
          { request_id: this.ctx.requestId, buffered_bytes: this.queuedBytes },
          'event stream client too slow: closing (it resumes from its last event id)',
        );
        this.queue = [];
        this.queuedBytes = 0;
        this.isAborted = true;
        this.res.close();
        this.close();
        return false;
      }
      return true;
    }
    let sent = true;
    this.res.cork(() => {
      if (!this.opened) this.writeHead();
      sent = this.res.write(chunk);
    });
    // uWS kept the unsent rest of the chunk; what follows waits here for onWritable.
    if (!sent) this.blocked = true;
    return true;
  }

  end(): void {
    if (this.closed) return;
    this.res.cork(() => {
      if (!this.opened) this.writeHead();
      if (this.queue.length > 0) this.res.write(this.queue.join(''));
      this.res.end();
    });
    this.queue = [];
    this.close();
  }

  beginReplay(): void {
    this.replaying++;
  }

  endReplay(): void {
    this.replaying--;
    this.grace = Math.max(this.grace, this.queuedBytes);
  }

  drained(): Promise<void> {
    if (!this.blocked || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  onClose(listener: () => void): void {
    if (this.closed) listener();
    else this.listeners.push(listener);
  }

  aborted(): void {
    this.isAborted = true;
    this.close();
  }

  /** A plain reply instead of a stream (auth, routing, validation). */
  reply(reply: HttpReply): void {
    if (this.closed || this.opened) return;
    const body = reply.body === undefined ? undefined : JSON.stringify(reply.body);
    this.res.cork(() => {
      this.res.writeStatus(statusLine(reply.status));
      this.res.writeHeader('x-request-id', this.ctx.requestId);
      this.res.writeHeader('traceparent', formatTraceparent(this.ctx.trace));
      if (body !== undefined) this.res.writeHeader('content-type', 'application/json; charset=utf-8');
      if (reply.headers) for (const name in reply.headers) this.res.writeHeader(name, reply.headers[name]!);
      this.res.end(body);
    });
    this.options.observe?.(this.ctx.method, this.route, reply.status);
    this.close();
  }

  /** The handler failed: an error reply if nothing was sent yet, else the stream just ends. */
  fail(error: unknown): void {
    if (this.closed) return;
    if (!this.opened) {
      this.reply(errorReply(error, this.options.logger));
      return;
    }
    this.options.logger.error({ err: toMailroomError(error) }, 'event stream handler failed');
    this.end();
  }

  private writeHead(): void {
    this.opened = true;
    this.res.writeStatus('200 OK');
    this.res.writeHeader('x-request-id', this.ctx.requestId);
    this.res.writeHeader('traceparent', formatTraceparent(this.ctx.trace));
    for (const name in this.options.headers) this.res.writeHeader(name, this.options.headers[name]!);
    this.res.onWritable(() => this.drain());
    this.options.observe?.(this.ctx.method, this.route, 200);
  }

  private drain(): boolean {
    if (this.closed) return true;
    this.blocked = false;
    if (this.queue.length > 0) {
      const data = this.queue.join('');
      this.queue = [];
      this.queuedBytes = 0;
      this.grace = 0;
      let sent = true;
      this.res.cork(() => {
        sent = this.res.write(data);
      });
      if (!sent) this.blocked = true;
    }
    if (!this.blocked) this.wake();
    // The data is with uWS either way; it calls again when the socket can take more.
    return true;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.wake();
    for (const listener of this.listeners.splice(0)) {
      try {
        listener();
      } catch (error) {
        this.options.logger.error({ err: error }, 'event stream close listener threw');
      }
    }
  }
}

function statusLine(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
}
