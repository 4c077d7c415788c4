/**
 * The one place that touches uWS HttpRequest/HttpResponse. It owns the sharp edges: onAborted is
 * attached first, everything is copied out of the request before any await (uWS frees it when the
 * callback returns), the body is read through onData with its size capped as it arrives, writes
 * happen only inside `res.cork`, and nothing touches `res` after an abort or after the reply.
 * Handlers get a plain context and return a plain reply.
 */

import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Packr } from 'msgpackr';
import { type ErrorDetail, MailroomError, toMailroomError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { SPLICED_JSON, type SplicedJson, splicedJson } from '../../runtime/pool/encoded-input.js';
import { decodeBody } from './body.js';
import { formatTraceparent, type TraceContext, traceContext } from './trace.js';

export interface HttpContext {
  /** Upper-case, e.g. `GET`. */
  readonly method: string;
  readonly path: string;
  /** The raw query string without `?`, or empty. */
  readonly query: string;
  /** Lower-case header names; copied from the request before the handler runs. */
  readonly headers: Readonly<Record<string, string>>;
  /** Echoed from `x-request-id` when the client sent a sane one, generated otherwise. */
  readonly requestId: string;
  /** W3C trace context: the caller's trace id (or a new one) and this request's span id. */
  readonly trace: Readonly<TraceContext>;
  /** Path parameters of the matched route (`:id` → `params.id`), percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** The decoded JSON or MessagePack body; `undefined` when there was none. */
  readonly body: unknown;
  /** True once the client went away; a handler may stop early, its reply is dropped anyway. */
  readonly aborted: boolean;
  /** What `ExchangeOptions.prepareBody` found out about the body (a job's checked input and digest), if it ran. */
  readonly prepared?: unknown;
}

export interface HttpReply {
  status: number;
  /**
   * Serialized as JSON (or MessagePack when the client accepts it); omitted for an empty body.
   * A frozen body is taken as a value: its JSON is made once and reused for that object.
   */
  body?: unknown;
  /** Bytes sent as they are with their content type, instead of an encoded `body` (/metrics, /openapi.json). */
  raw?: { payload: string | Buffer; type: string };
  headers?: Readonly<Record<string, string>>;
}

export type HttpHandler = (ctx: HttpContext) => HttpReply | Promise<HttpReply>;

/** A route chosen before any body byte is read. */
export interface RouteMatch {
  handler: HttpHandler;
  params: Record<string, string>;
  /** The route as registered (`/api/v1/jobs/:id`), for labelling metrics. */
  pattern?: string;
}

/**
 * Everything decided from the request line and headers alone (auth, rate limit, routing): a
 * route to run, or a reply to send at once without reading the body.
 */
export type Front = (ctx: HttpContext) => RouteMatch | HttpReply;

export interface ExchangeOptions {
  logger: Logger;
  /** Bodies past this are answered 413 as soon as the declared or received size says so. */
  maxBodyBytes: number;
  /** A last look at every reply before it is written (the compatibility routes shape their errors). */
  finish?: (ctx: HttpContext, reply: HttpReply) => HttpReply;
  /**
   * Told of every reply once it is written: the matched route pattern ('' when none matched),
   * the status and when the request arrived (`performance.now()`). Runs on every request: keep it cheap.
   */
  observe?: (method: string, route: string, status: number, startedAt: number) => void;
  /**
   * Decodes (and prepares) a large body off the event loop: returns `undefined` for bodies it
   * leaves to the inline decoder. `owned`: the bytes are a fresh buffer that may be given away;
   * otherwise they are uWS memory, valid only until this call returns.
   */
  prepareBody?: (
    ctx: HttpContext,
    bytes: Uint8Array,
    owned: boolean,
  ) => Promise<{ body: unknown; prepared: unknown }> | undefined;
}

const NO_PARAMS: Readonly<Record<string, string>> = Object.freeze({});

class Exchange implements HttpContext {
  aborted = false;
  /** Set once the reply is written, so a late second reply can never reach a reused response. */
  done = false;
  method = '';
  path = '';
  query = '';
  headers: Record<string, string> = {};
  requestId = '';
  trace!: TraceContext;
  params: Readonly<Record<string, string>> = NO_PARAMS;
  body: unknown = undefined;
  prepared: unknown = undefined;
  /** The matched route pattern, for `observe`. */
  route = '';
  startedAt = 0;
}

// Generous enough for UUIDs, trace ids and ULIDs; visible ASCII only, so an echoed id can never
// smuggle anything into a header or a log line.
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

const JSON_TYPE = 'application/json; charset=utf-8';
const MSGPACK_TYPE = 'application/msgpack';
// Standard MessagePack that any client library reads (no msgpackr records). Views use null,
// never undefined, so both encodings carry the same fields.
const packr = new Packr({ useRecords: false });

const statusLines = new Map<number, string>();
function statusLine(status: number): string {
  let line = statusLines.get(status);
  if (!line) {
    line = `${status} ${STATUS_CODES[status] ?? 'Unknown'}`;
    statusLines.set(status, line);
  }
  return line;
}

/** The registry error shape: `{"error": {"code", "message", "details"?}}`. */
export function errorReply(error: unknown, logger?: Logger): HttpReply {
  const err = toMailroomError(error);
  if (err.code === 'INTERNAL') {
    // The cause may hold internals; clients get the registry message, the log gets the rest.
    logger?.error({ err: err.cause ?? err }, 'unhandled error in HTTP handler');
  }
  const body: { code: string; message: string; details?: ErrorDetail[] } = {
    code: err.code,
    message: err.code === 'INTERNAL' ? 'Internal error' : err.message,
  };
  if (err.details) body.details = err.details;
  const headers: Record<string, string> = {};
  if (err.status === 429 || err.status === 503) headers['retry-after'] = '1';
  return { status: err.status, body: { error: body }, headers };
}

/** Runs one request through `front` and the chosen handler with every uWS rule applied. Call from the uWS route callback. */
export function serve(res: HttpResponse, req: HttpRequest, front: Front, options: ExchangeOptions): void {
  const ex = new Exchange();
  res.onAborted(() => {
    ex.aborted = true;
  });
  if (options.observe) ex.startedAt = performance.now();
  ex.method = req.getMethod().toUpperCase();
  ex.path = req.getUrl();
  ex.query = req.getQuery() ?? '';
  req.forEach((key, value) => {
    ex.headers[key] = value;
  });
  const incoming = ex.headers['x-request-id'];
  ex.requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  ex.trace = traceContext(ex.headers.traceparent);

  let decision: RouteMatch | HttpReply;
  try {
    decision = front(ex);
  } catch (error) {
    decision = errorReply(error, options.logger);
  }
  // uWS has already validated Content-Length (a bad one closes the connection before we run).
  const declared = Number(ex.headers['content-length'] ?? 0) || 0;
  const chunked = /chunked/i.test(ex.headers['transfer-encoding'] ?? '');
  const tooLarge = declared > options.maxBodyBytes;
  if (!('handler' in decision)) {
    // Answered before the body: uWS discards what is still on its way, but an unbounded or
    // oversized body is not worth draining, so that connection is closed instead.
    write(res, ex, decision, options, chunked || tooLarge);
    return;
  }
  ex.params = decision.params;
  ex.route = decision.pattern ?? '';
  if (tooLarge) {
    write(res, ex, errorReply(payloadTooLarge(options.maxBodyBytes)), options, true);
    return;
  }
  if (declared === 0 && !chunked) {
    run(res, ex, decision.handler, options);
    return;
  }
  readBody(res, ex, decision.handler, options, chunked ? 0 : declared);
}

function payloadTooLarge(max: number): MailroomError {
  return new MailroomError('PAYLOAD_TOO_LARGE', `The body exceeds the limit of ${max} bytes`);
}

/**
 * Collects the body as it arrives (onData must be attached before the uWS callback returns).
 * `declared` is the Content-Length (0 when chunked): a body in several chunks is copied straight
 * into one buffer of that size, instead of into a copy per chunk and then a concatenation.
 */
function readBody(
  res: HttpResponse,
  ex: Exchange,
  handler: HttpHandler,
  options: ExchangeOptions,
  declared: number,
): void {
  let chunks: Buffer[] = [];
  let whole: Buffer | null = null;
  let received = 0;
  res.onData((chunk, isLast) => {
    if (ex.done || ex.aborted) return;
    const start = received;
    received += chunk.byteLength;
    if (received > options.maxBodyBytes) {
      chunks = [];
      whole = null;
      write(res, ex, errorReply(payloadTooLarge(options.maxBodyBytes)), options, true);
      return;
    }
    if (isLast && start === 0) {
      // The whole body in one chunk (the common case): decoded right here, while uWS still owns
      // the memory. Decoding copies everything it keeps, so no reference to the chunk survives.
      finishBody(res, ex, handler, options, new Uint8Array(chunk), false);
      return;
    }
    // uWS reuses (neuters) the chunk's memory after this callback returns: keep a copy.
    if (declared > 0) {
      // uWS has checked Content-Length, so the chunks add up to it: one buffer, one copy.
      if (received > declared) {
        whole = null;
        write(res, ex, errorReply(payloadTooLarge(declared)), options, true);
        return;
      }
      // Shared memory: the payload pool reads it, and a job keeps its input as a slice of it, with no copy.
      whole ??= Buffer.from(new SharedArrayBuffer(declared));
      whole.set(new Uint8Array(chunk), start);
      if (isLast) {
        const body = received === declared ? whole : whole.subarray(0, received);
        whole = null;
        finishBody(res, ex, handler, options, body, body.byteLength === body.buffer.byteLength);
      }
      return;
    }
    chunks.push(Buffer.copyBytesFrom(new Uint8Array(chunk)));
    if (isLast) {
      const body = Buffer.concat(chunks, received);
      chunks = [];
      finishBody(res, ex, handler, options, body, true);
    }
  });
}

function finishBody(
  res: HttpResponse,
  ex: Exchange,
  handler: HttpHandler,
  options: ExchangeOptions,
  bytes: Uint8Array,
  owned: boolean,
): void {
  let preparing: Promise<{ body: unknown; prepared: unknown }> | undefined;
  try {
    preparing = options.prepareBody?.(ex, bytes, owned);
    if (!preparing) ex.body = decodeBody(bytes, ex.headers['content-type']);
  } catch (error) {
    write(res, ex, errorReply(error, options.logger), options);
    return;
  }
  if (!preparing) {
    run(res, ex, handler, options);
    return;
  }
  preparing.then(
    ({ body, prepared }) => {
      ex.body = body;
      ex.prepared = prepared;
      run(res, ex, handler, options);
    },
    (error: unknown) => write(res, ex, errorReply(error, options.logger), options),
  );
}

function run(res: HttpResponse, ex: Exchange, handler: HttpHandler, options: ExchangeOptions): void {
  let result: HttpReply | Promise<HttpReply>;
  try {
    result = handler(ex);
  } catch (error) {
    result = errorReply(error, options.logger);
  }
  if (result instanceof Promise) {
    result.then(
      (reply) => write(res, ex, reply, options),
      (error: unknown) => write(res, ex, errorReply(error, options.logger), options),
    );
  } else {
    write(res, ex, result, options);
  }
}

function wantsMsgpack(accept: string | undefined): boolean {
  return accept !== undefined && /application\/(x-)?msgpack/i.test(accept);
}

/**
 * JSON of frozen reply bodies, by object. A frozen body is a value (a job's view, the same object
 * while the job is unchanged), so a job polled thousands of times a second is serialized once.
 */
const frozenJson = new WeakMap<object, string | Buffer>();

function encode(ex: Exchange, body: unknown): { payload: string | Buffer; type: string } {
  if (wantsMsgpack(ex.headers.accept)) return { payload: packr.pack(body), type: MSGPACK_TYPE };
  if (body === null || typeof body !== 'object') return { payload: JSON.stringify(body), type: JSON_TYPE };
  const frozen = Object.isFrozen(body);
  let payload = frozen ? frozenJson.get(body) : undefined;
  if (payload === undefined) {
    // A body carrying pre-encoded JSON (a job's large input): spliced in, never re-serialized.
    const spliced = (body as { [SPLICED_JSON]?: SplicedJson })[SPLICED_JSON];
    payload = (spliced ? splicedJson(spliced) : undefined) ?? JSON.stringify(body);
    if (frozen) frozenJson.set(body, payload);
  }
  return { payload, type: JSON_TYPE };
}

function write(
  res: HttpResponse,
  ex: Exchange,
  reply: HttpReply,
  options: ExchangeOptions,
  close = false,
): void {
  if (ex.aborted || ex.done) return;
  ex.done = true;
  let final = options.finish ? options.finish(ex, reply) : reply;
  let encoded: { payload: string | Buffer; type: string } | undefined;
  try {
    encoded = final.raw ?? (final.body === undefined ? undefined : encode(ex, final.body));
  } catch (error) {
    // Never leave a request unanswered because its reply could not be encoded.
    final = errorReply(error, options.logger);
    encoded = { payload: JSON.stringify(final.body), type: JSON_TYPE };
  }
  res.cork(() => {
    res.writeStatus(statusLine(final.status));
    res.writeHeader('x-request-id', ex.requestId);
    res.writeHeader('traceparent', formatTraceparent(ex.trace));
    if (encoded) res.writeHeader('content-type', encoded.type);
    if (final.headers) {
      for (const name in final.headers) res.writeHeader(name, final.headers[name] as string);
    }
    res.end(encoded?.payload, close);
  });
  options.observe?.(ex.method, ex.route, final.status, ex.startedAt);
}
