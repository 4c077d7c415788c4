/**
 * Mounts the two WebSocket endpoints on the uWS app: `/ws` for clients and `/ws/worker` for remote
 * workers. Owns the set of open sockets (closed with 1001 on shutdown) and the heartbeat sweep that
 * drops workers which went silent without closing their socket (a half-open TCP connection).
 */

import type { TemplatedApp, WebSocket } from 'uWebSockets.js';
import type { Registry } from 'prom-client';
import type { Mailroom } from '../../app/mailroom.js';
import type { Logger } from '../../logger.js';
import type { WebSocketConfig } from '../../schemas/config.js';
import type { Guard } from '../http/auth.js';
import { ClientSession } from './client-session.js';
import { type SocketData, upgradeHandler } from './handshake.js';
import { CLOSE_GOING_AWAY, SocketWriter } from './socket-writer.js';
import { WorkerSession } from './worker-session.js';
import { type Endpoint, WebSocketMetrics } from './ws-metrics.js';

export interface WebSocketOptions {
  app: Mailroom;
  guard: Guard;
  logger: Logger;
  config: WebSocketConfig;
  /** Largest frame accepted, as for HTTP bodies (config `max_body_bytes`). */
  maxFrameBytes: number;
  remoteTypes: ReadonlySet<string>;
  /** Where the endpoints' metrics are registered (the server's /metrics registry). */
  registry?: Registry;
  now?: () => number;
}

export interface WebSocketEndpoints {
  /** Closes every open socket with 1001 (going away); workers' leases are released. */
  closeAll(): void;
  counts(): { clients: number; workers: number };
}

type Session = ClientSession | WorkerSession;
type Data = SocketData & { session?: Session; endpoint?: Endpoint };

/** Closed when a worker missed its heartbeats (an application code: 4000–4999). */
const CLOSE_HEARTBEAT_MISSED = 4000;
// uWS closes a socket that sent nothing for this long; it pings idle sockets first, so a live
// client (any library answers pings) is never dropped. Must be 0 or 8–960 s.
const IDLE_TIMEOUT_S = 120;

export function mountWebSockets(uws: TemplatedApp, options: WebSocketOptions): WebSocketEndpoints {
  const now = options.now ?? Date.now;
  const logger = options.logger.child({ component: 'ws' });
  const open = new Map<WebSocket<Data>, SocketWriter>();
  const workers = new Map<WorkerSession, SocketWriter>();
  const limit = options.config.max_buffered_bytes;
  let clients = 0;
  // Worker sockets counted while open, even after the sweep dropped their session and before uWS closes them.
  const counts = () => ({ clients, workers: open.size - clients });
  const metrics = options.registry ? new WebSocketMetrics(options.registry, counts) : null;
  const newWriter = (ws: WebSocket<Data>, endpoint: Endpoint): SocketWriter =>
    new SocketWriter(ws, limit, () => metrics?.closed(endpoint, 'slow_consumer'));
  const common = {
    maxPayloadLength: options.maxFrameBytes,
    idleTimeout: IDLE_TIMEOUT_S,
    sendPingsAutomatically: true,
    // Above what SocketWriter lets queue, so uWS itself never drops a frame (which would be a gap).
    maxBackpressure: limit + options.maxFrameBytes * 2,
    closeOnBackpressureLimit: 0,
    upgrade: upgradeHandler(options.guard),
    message: (ws: WebSocket<Data>, message: ArrayBuffer, isBinary: boolean) => {
      const data = ws.getUserData();
      if (data.endpoint) metrics?.frame(data.endpoint);
      data.session?.onMessage(message, isBinary);
    },
    drain: (ws: WebSocket<Data>) => {
      open.get(ws)?.onDrain();
    },
    close: (ws: WebSocket<Data>, code: number) => {
      const data = ws.getUserData();
      data.closed = true;
      open.get(ws)?.onClosed();
      if (open.delete(ws) && data.endpoint === 'client') clients--;
      const session = data.session;
      if (session instanceof WorkerSession) {
        workers.delete(session);
        session.onClose(code === CLOSE_GOING_AWAY ? 'server shutting down' : 'disconnected');
      } else {
        session?.onClose();
      }
    },
  };

  uws.ws<Data>('/ws', {
    ...common,
    open: (ws) => {
      const data = ws.getUserData();
      const writer = newWriter(ws, 'client');
      open.set(ws, writer);
      clients++;
      data.endpoint = 'client';
      data.session = new ClientSession(options.app, writer, data.encoding, logger);
    },
  });

  uws.ws<Data>('/ws/worker', {
    ...common,
    open: (ws) => {
      const data = ws.getUserData();
      const writer = newWriter(ws, 'worker');
      open.set(ws, writer);
      data.endpoint = 'worker';
      const session = new WorkerSession(options.app, writer, data.encoding, logger, {
        heartbeatMs: options.config.heartbeat_ms,
        remoteTypes: options.remoteTypes,
        now,
      });
      workers.set(session, writer);
      data.session = session;
    },
    pong: (ws) => {
      const session = ws.getUserData().session;
      if (session instanceof WorkerSession) session.alive();
    },
  });

  const sweep = setInterval(() => {
    const at = now();
    for (const [session, writer] of workers) {
      if (!session.isSilent(at)) continue;
      workers.delete(session);
      logger.warn('worker missed two heartbeats: dropping it and returning its jobs to pending');
      // Released before the close, which on a half-open connection may never complete.
      session.onClose('missed heartbeats');
      metrics?.closed('worker', 'missed_heartbeats');
      writer.close(CLOSE_HEARTBEAT_MISSED, 'missed heartbeats');
    }
  }, options.config.heartbeat_ms);
  sweep.unref();

  return {
    closeAll() {
      clearInterval(sweep);
      for (const writer of [...open.values()]) writer.close(CLOSE_GOING_AWAY, 'server shutting down');
      open.clear();
      clients = 0;
    },
    counts,
  };
}
