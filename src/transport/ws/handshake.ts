/**
 * The WebSocket upgrade shared by `/ws` and `/ws/worker`: the same API-key guard and rate limit as
 * HTTP (a refused upgrade is an ordinary 401/429 JSON reply), keys also accepted as `?key=` or a
 * `key.<key>` subprotocol (browsers cannot set headers), and the subprotocol choice that decides
 * whether the socket speaks JSON or MessagePack.
 */
import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import { randomUUID } from 'node:crypto';
import type { Guard } from '../http/auth.js';
import type { HttpContext } from '../http/exchange.js';
import { traceContext } from '../http/trace.js';
import { type Encoding, MSGPACK_PROTOCOL } from './codec.js';

export interface SocketData {
  encoding: Encoding;
  /** Trace id of the upgrade request, for the socket's log lines. */
  traceId: string;
  /** Set once the socket closed: uWS throws on any use of a closed socket. */
  closed: boolean;
}

const KEY_PROTOCOL = 'key.';
const JSON_PROTOCOL = 'mailroom.json';

/** Builds a uWS `upgrade` handler that authenticates, picks the subprotocol and upgrades. */
export function upgradeHandler(guard: Guard) {
  return (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void => {
    // Everything is read from req now: uWS frees it when this callback returns.
    const headers: Record<string, string> = {};
    req.forEach((name, value) => {
      headers[name] = value;
    });
    const path = req.getUrl();
    const query = req.getQuery() ?? '';
    const offered = (headers['sec-websocket-protocol'] ?? '')
      .split(',')
      .map((protocol) => protocol.trim())
      .filter((protocol) => protocol.length > 0);

    const key = presentedKey(query, offered);
    if (key !== null && !headers['x-api-key']) headers['x-api-key'] = key;
    const trace = traceContext(headers.traceparent);
    const refusal = guard(handshakeContext(path, query, headers, trace));
    if (refusal) {
      res.cork(() => {
        res.writeStatus(`${refusal.status} ${refusal.status === 429 ? 'Too Many Requests' : 'Unauthorized'}`);
        res.writeHeader('content-type', 'application/json; charset=utf-8');
        for (const name in refusal.headers ?? {}) res.writeHeader(name, refusal.headers![name]!);
        res.end(JSON.stringify(refusal.body), true);
      });
      return;
    }

    // A browser that offered subprotocols fails the handshake unless one of them is echoed.
    const chosen = offered.includes(MSGPACK_PROTOCOL)
      ? MSGPACK_PROTOCOL
      : offered.includes(JSON_PROTOCOL)
        ? JSON_PROTOCOL
        : (offered.find((protocol) => protocol.startsWith(KEY_PROTOCOL)) ?? '');
    const data: SocketData = {
      encoding: chosen === MSGPACK_PROTOCOL ? 'msgpack' : 'json',
      traceId: trace.traceId,
      closed: false,
    };
    res.upgrade(
      data,
      headers['sec-websocket-key'] ?? '',
      chosen,
      headers['sec-websocket-extensions'] ?? '',
      context,
    );
  };
}

/** A key given where HTTP has none (`?key=`, `key.<key>` subprotocol); headers are the guard's own business. */
function presentedKey(query: string, offered: string[]): string | null {
  const fromQuery = new URLSearchParams(query).get('key');
  if (fromQuery) return fromQuery;
  const fromProtocol = offered.find((protocol) => protocol.startsWith(KEY_PROTOCOL));
  if (fromProtocol && fromProtocol.length > KEY_PROTOCOL.length)
    return fromProtocol.slice(KEY_PROTOCOL.length);
  return null;
}

function handshakeContext(
  path: string,
  query: string,
  headers: Record<string, string>,
  trace: HttpContext['trace'],
): HttpContext {
  return {
    method: 'GET',
    path,
    query,
    headers,
    requestId: headers['x-request-id'] ?? randomUUID(),
    trace,
    params: {},
    body: undefined,
    aborted: false,
  };
}
