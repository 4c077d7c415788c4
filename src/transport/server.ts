/**
 * The uWS edge. Builds the app, mounts routes and owns the listen socket. Routes are plain
 * handlers on a Router (see http/exchange.ts for the rules every request goes through).
 */
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { Logger } from '../logger.js';
import { serve } from './http/exchange.js';
import { Router } from './http/router.js';
import { addHealthRoutes } from './http/routes/health.js';
import { loadUws } from './uws.js';

export interface HttpServerOptions {
  logger: Logger;
  /** Shown by /health/ready. */
  storeName: string;
  /** Readiness check behind /health/ready; rejects (or hangs) when the store is away. */
  ready: () => Promise<void>;
  readyTimeoutMs?: number;
}

export interface MailroomServer {
  /** Resolves with the bound port (useful with port 0). */
  listen(host: string, port: number): Promise<number>;
  /** Stops accepting connections; open ones may finish what they are doing. */
  stopListening(): void;
  /** Stops listening and closes every open connection. */
  close(): void;
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

  const app = uWS.App() as ClosableApp;
  app.any('/*', (res, req) => serve(res, req, router.handle, logger));

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
    close() {
      this.stopListening();
      app.close();
    },
  };
}
