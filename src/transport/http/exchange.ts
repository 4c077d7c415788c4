/**
 * The one place that touches uWS HttpRequest/HttpResponse. It owns the sharp edges: onAborted is
 * attached first, everything is copied out of the request before any await (uWS frees it when the
 * callback returns), writes happen only inside `res.cork`, and nothing touches `res` after an
 * abort or after the reply. Handlers get a plain context and return a plain reply.
 */

import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { type ErrorDetail, toMailroomError } from '../../errors.js';
import type { Logger } from '../../logger.js';

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
  /** True once the client went away; a handler may stop early, its reply is dropped anyway. */
  readonly aborted: boolean;
}

export interface HttpReply {
  status: number;
  /** Serialized as JSON; omitted for an empty body. */
  body?: unknown;
  headers?: Readonly<Record<string, string>>;
}

export type HttpHandler = (ctx: HttpContext) => HttpReply | Promise<HttpReply>;

class Exchange implements HttpContext {
  aborted = false;
  /** Set once the reply is written, so a late second reply can never reach a reused response. */
  done = false;
  method = '';
  path = '';
  query = '';
  headers: Record<string, string> = {};
  requestId = '';
}

// Generous enough for UUIDs, trace ids and ULIDs; visible ASCII only, so an echoed id can never
// smuggle anything into a header or a log line.
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

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

/** Runs `handler` for one request with every uWS rule applied. Call from inside the uWS route callback. */
export function serve(res: HttpResponse, req: HttpRequest, handler: HttpHandler, logger: Logger): void {
  const ex = new Exchange();
  res.onAborted(() => {
    ex.aborted = true;
  });
  ex.method = req.getMethod().toUpperCase();
  ex.path = req.getUrl();
  ex.query = req.getQuery() ?? '';
  req.forEach((key, value) => {
    ex.headers[key] = value;
  });
  const incoming = ex.headers['x-request-id'];
  ex.requestId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();

  let result: HttpReply | Promise<HttpReply>;
  try {
    result = handler(ex);
  } catch (error) {
    result = errorReply(error, logger);
  }
  if (result instanceof Promise) {
    result.then(
      (reply) => write(res, ex, reply),
      (error: unknown) => write(res, ex, errorReply(error, logger)),
    );
  } else {
    write(res, ex, result);
  }
}

function write(res: HttpResponse, ex: Exchange, reply: HttpReply): void {
  if (ex.aborted || ex.done) return;
  ex.done = true;
  const payload = reply.body === undefined ? undefined : JSON.stringify(reply.body);
  res.cork(() => {
    res.writeStatus(statusLine(reply.status));
    res.writeHeader('x-request-id', ex.requestId);
    if (payload !== undefined) res.writeHeader('content-type', 'application/json; charset=utf-8');
    if (reply.headers) {
      for (const name in reply.headers) res.writeHeader(name, reply.headers[name] as string);
    }
    res.end(payload);
  });
}
