/**
 * Wires one server process: logger, store, the payload pool and thread executors, the Mailroom app
 * (actor system and domain actors) and the uWS edge, plus recovery after a restart and graceful shutdown.
 */

import { ThreadExecutor } from './actors/executors/thread.js';
import { createMailroom, type Mailroom } from './app/mailroom.js';
import type { Config } from './config.js';
import { createLogger, type Logger } from './logger.js';
import { systemClock } from './runtime/clock.js';
import { PayloadPool } from './runtime/pool/payload-pool.js';
import type { SnapshotStore } from './runtime/store/snapshot-store.js';
import { createThreadHosts, type ThreadHosts } from './runtime/threads/thread-hosts.js';
import { poolBodies } from './transport/http/body.js';
import { registerOffloadMetrics } from './transport/metrics.js';
import { createServer } from './transport/server.js';

/** Past this, a shutdown that is stuck (a hung store, a wedged actor) is cut short. */
const HARD_EXIT_MS = 5_000;
/** Draining stops waiting for busy actors here, leaving time to close the store before the hard exit. */
const SHUTDOWN_DRAIN_MS = 3_000;

export interface StartOptions {
  /** Defaults to a stdout logger at the configured level. */
  logger?: Logger;
  /** Exit on SIGINT/SIGTERM after a graceful stop; off when embedding (tests). */
  handleSignals?: boolean;
}

export interface RunningServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly logger: Logger;
  readonly app: Mailroom;
  /** The payload pool and the thread executors' threads (their `stats()` feed /metrics). */
  readonly pool: PayloadPool;
  readonly threads: ThreadHosts;
  /** Stops accepting, drains the actor system, closes the store. Idempotent. */
  stop(): Promise<void>;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const { server: opts } = config;
  const logger = options.logger ?? createLogger({ level: opts.logLevel });
  const store = await openStore(config, logger);
  const pool = new PayloadPool(config.file.pool, config.file.job_types, logger.child({ component: 'pool' }));
  const threads = createThreadHosts(config.file.job_types, {
    logger: logger.child({ component: 'threads' }),
  });
  const closeWorkers = () => Promise.all([pool.close(), threads.close()]);
  // One adapter runs every thread: type, registered under each type's executor name.
  const threadExecutor = new ThreadExecutor(threads.runners);
  const executors = Object.fromEntries(
    config.file.job_types
      .filter((type) => type.executor.startsWith('thread:'))
      .map((type) => [type.executor, threadExecutor]),
  );
  let app: Mailroom;
  try {
    app = await createMailroom({
      store,
      config: config.file,
      clock: systemClock,
      logger,
      executors,
      offload: pool,
    });
    if (store.durable) {
      const recovered = await app.recover();
      logger.info(recovered, 'recovered timers and requeued unfinished jobs from the store');
    }
  } catch (error) {
    await closeWorkers();
    await store.close();
    throw error;
  }
  const system = app.system;
  const http = createServer({
    logger,
    storeName: store.name,
    ready: async () => {
      await Promise.all([store.ping(), pool.ready()]);
    },
    prepareBody: poolBodies(pool),
    app,
    maxBodyBytes: config.file.max_body_bytes,
    apiKeys: opts.apiKeys,
    rateLimit: config.file.rate_limit,
    websocket: config.file.websocket,
    remoteTypes: config.file.job_types.filter((type) => type.executor === 'remote').map((type) => type.name),
  });

  registerOffloadMetrics(http.metrics.registry, { pool: () => pool.stats(), threads: () => threads.stats() });

  let port: number;
  try {
    port = await http.listen(opts.host, opts.port);
  } catch (error) {
    http.close();
    await system.shutdown();
    await closeWorkers();
    await store.close();
    throw error;
  }

  const url = `http://${opts.host.includes(':') ? `[${opts.host}]` : opts.host}:${port}`;
  logger.info({ host: opts.host, port, url, store: store.name }, `mailroom listening on ${url}`);
  if (!store.durable) {
    logger.warn(
      { store: store.name },
      'using the embedded in-memory store: not durable, nothing survives a restart (set REDIS_URL for durability)',
    );
  }
  if (opts.apiKeys.length === 0) {
    logger.warn('API_KEYS is not set: authentication is off, anyone who can reach this port can use the API');
  }

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      removeSignalHandlers();
      http.stopListening();
      // Before draining, so workers' leases are released and recorded while the store is still open.
      http.closeSockets();
      try {
        await system.shutdown({ timeoutMs: SHUTDOWN_DRAIN_MS });
      } finally {
        http.close();
        await closeWorkers();
        await store.close();
      }
    })();
    return stopping;
  };

  let removeSignalHandlers = (): void => {};
  if (options.handleSignals !== false) removeSignalHandlers = exitOnSignals(stop, logger);

  return { host: opts.host, port, url, logger, app, pool, threads, stop };
}

async function openStore(config: Config, logger: Logger): Promise<SnapshotStore> {
  const { redisUrl, redisPrefix } = config.server;
  const eventLogMaxLen = config.file.event_log_max_len;
  if (redisUrl) {
    // Loaded only when asked for, so the embedded mode never pulls in ioredis.
    const { createRedisStore } = await import('./runtime/store/redis-store.js');
    return createRedisStore({ url: redisUrl, prefix: redisPrefix, logger, eventLogMaxLen });
  }
  const { MemoryStore } = await import('./runtime/store/memory-store.js');
  return new MemoryStore(eventLogMaxLen);
}

/** First signal: graceful stop, exit 0. Second signal or a stop past HARD_EXIT_MS: exit 1 at once. */
function exitOnSignals(stop: () => Promise<void>, logger: Logger): () => void {
  let received = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (received) {
      logger.warn({ signal }, 'second signal during shutdown: exiting now');
      process.exit(1);
    }
    received = true;
    logger.info({ signal }, 'shutting down');
    setTimeout(() => {
      logger.error({ timeout_ms: HARD_EXIT_MS }, 'shutdown did not finish in time: exiting');
      process.exit(1);
    }, HARD_EXIT_MS).unref();
    stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    // Keep listening while our own stop runs, so a second signal can still force the exit.
    if (received) return;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
