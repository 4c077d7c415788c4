/**
 * The uWS edge. Builds the app, mounts routes and owns the listen socket. Every request passes
 * the guard (API key, rate limit), then the router, then its handler (see http/exchange.ts for
 * the rules every request goes through).
 */
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Mailroom } from '../app/mailroom.js';
import type { Logger } from '../logger.js';
import type { RateLimitConfig, WebSocketConfig } from '../schemas/config.js';
import { createGuard } from './http/auth.js';
import { type ExchangeOptions, type Front, serve } from './http/exchange.js';
import { Router } from './http/router.js';
import { shapeCompatReply } from './http/routes/compat.js';
import { addCompatJobRoutes } from './http/routes/compat-jobs.js';
import { addCompatWorkflowRoutes } from './http/routes/compat-workflows.js';
import { addEventRoutes, mountEventStream } from './http/routes/events.js';
import { addHealthRoutes } from './http/routes/health.js';
import { addJobRoutes } from './http/routes/jobs.js';
import { addMetricsRoute } from './http/routes/metrics.js';
import { addOpenApiRoute } from './http/routes/openapi.js';
import { addStatsRoutes } from './http/routes/stats.js';
import { addWorkerRoutes } from './http/routes/workers.js';
import { addWorkflowRoutes } from './http/routes/workflows.js';
import { ServerMetrics } from './metrics.js';
import { EventStreams } from './sse.js';
import { loadUws } from './uws.js';
import { mountWebSockets, type WebSocketEndpoints } from './ws/endpoints.js';

export interface HttpServerOptions {
  logger: Logger;
  /** Shown by /health/ready. */
  storeName: string;
  /** Readiness check behind /health/ready; rejects (or hangs) when the store is away. */
  ready: () => Promise<void>;
  readyTimeoutMs?: number;
  /** The domain behind the API routes; without it only the health routes exist. */
  app?: Mailroom;
  /** Config `max_body_bytes`. */
  maxBodyBytes: number;
  /** `API_KEYS`; empty turns auth (and rate limiting) off. */
  apiKeys: readonly string[];
  rateLimit: RateLimitConfig;
  /** Large bodies decoded and prepared off the event loop (the payload pool); see ExchangeOptions. */
  prepareBody?: ExchangeOptions['prepareBody'];
  /** Limits of `/ws` and `/ws/worker` (mounted with `app`). */
  websocket?: WebSocketConfig;
  /** Job types with the `remote` executor: what workers may register for. */
  remoteTypes?: readonly string[];
  /**
   * Prometheus registry and HTTP metrics; created here when absent. Modules with metrics of their
   * own register them on `metrics.registry` (see transport/metrics.ts).
   */
  metrics?: ServerMetrics;
  /** Server-Sent Events: heartbeat interval and the bytes held for a slow client (default 1 MiB). */
  events?: { heartbeatMs?: number; maxBufferedBytes?: number };
}

export interface MailroomServer {
  /** Resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting connections; open ones may finish what they are doing. */
  stopListening(): void;
  /** Closes every WebSocket with 1001 (going away); remote workers' leases are released. */
  closeSockets(): void;
  /** Stops listening and closes every open connection (event streams are ended cleanly first). */
  close(): void;
  /** The Prometheus registry behind /metrics. */
  readonly metrics: ServerMetrics;
  /** Every route the router serves (the OpenAPI document is checked against it). */
  routes(): ReadonlyArray<{ method: string; pattern: string }>;
}

// v20.30 implements these at runtime but its .d.ts declares neither close() nor listen(host, port, options, cb).
type ClosableApp = TemplatedApp & {
  close(): void;
  listen(host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void): void;
};

// uWS sets SO_REUSEPORT by default, so a second server on a busy port would "succeed" and silently
// split traffic with the first; exclusive mode makes it fail like any other server would.
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

export function createServer(options: HttpServerOptions): MailroomServer {
  const uWS = loadUws();
  const logger = options.logger.child({ component: 'http' });
  const router = new Router();
  addHealthRoutes(router, {
    storeName: options.storeName,
    ready: options.ready,
    logger,
    ...(options.readyTimeoutMs === undefined ? {} : { readyTimeoutMs: options.readyTimeoutMs }),
  });
  if (options.app) {
    addJobRoutes(router, options.app);
    addWorkflowRoutes(router, options.app);
    addStatsRoutes(router, options.app);
    addWorkerRoutes(router, options.app);
    addCompatJobRoutes(router, options.app);
    addCompatWorkflowRoutes(router, options.app);
  }
  const metrics = options.metrics ?? new ServerMetrics();
  addMetricsRoute(router, metrics);
  addOpenApiRoute(router);
  let streams: EventStreams | undefined;
  if (options.app) {
    streams = new EventStreams(options.app, { logger, registry: metrics.registry, ...options.events });
    addEventRoutes(router, streams);
    metrics.attach(options.app, logger).catch((error: unknown) => {
      logger.warn({ err: error }, 'metrics: cannot follow job events (job metrics stay at zero)');
    });
  }
  const guard = createGuard({ apiKeys: options.apiKeys, rateLimit: options.rateLimit });
  const front: Front = (ctx) => guard(ctx) ?? router.resolve(ctx);
  const exchange: ExchangeOptions = {
    logger,
    maxBodyBytes: options.maxBodyBytes,
    finish: shapeCompatReply,
    observe: metrics.observeHttp,
    ...(options.prepareBody ? { prepareBody: options.prepareBody } : {}),
  };

  const app = uWS.App() as ClosableApp;
  let sockets: WebSocketEndpoints | undefined;
  if (options.app) {
    sockets = mountWebSockets(app, {
      app: options.app,
      guard,
      logger,
      config: options.websocket ?? { max_buffered_bytes: 4 * 1024 * 1024, heartbeat_ms: 10_000 },
      maxFrameBytes: options.maxBodyBytes,
      remoteTypes: new Set(options.remoteTypes ?? []),
      registry: metrics.registry,
    });
  }
  if (streams) {
    mountEventStream(app, {
      front,
      logger,
      maxBufferedBytes: options.events?.maxBufferedBytes ?? 1024 * 1024,
      observe: (method, route, status) => metrics.countHttp(method, route, status),
    });
  }
  app.any('/*', (res, req) => serve(res, req, front, exchange));

  let listenSocket: us_listen_socket | undefined;
  return {
    listen(host, port) {
      return new Promise((resolve, reject) => {
        app.listen(host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
          if (!socket) {
            reject(new Error(`cannot listen on ${host}:${port} (address in use or not available here)`));
            return;
          }
          listenSocket = socket;
          resolve(uWS.us_socket_local_port(socket));
        });
      });
    },
    stopListening() {
      if (listenSocket) uWS.us_listen_socket_close(listenSocket);
      listenSocket = undefined;
    },
    closeSockets() {
      sockets?.closeAll();
    },
    close() {
      this.stopListening();
      sockets?.closeAll();
      streams?.close();
      metrics.close();
      app.close();
    },
    metrics,
    routes: () => router.routes(),
  };
}
