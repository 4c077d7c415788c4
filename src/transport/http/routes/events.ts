/**
 * `GET /api/v1/events?topics=…`: Server-Sent Events (see transport/sse.ts). The uWS app sends
 * this path to the streaming wrapper (http/stream.ts); the router knows it for auth, 405s and the
 * route list.
 */
import type { TemplatedApp } from 'uWebSockets.js';
import type { Logger } from '../../../logger.js';
import { EVENT_STREAM_HEADERS, type EventStreams } from '../../sse.js';
import type { Front } from '../exchange.js';
import type { Router } from '../router.js';
import { addStreamRoute, type StreamOptions, serveStream } from '../stream.js';

export const EVENTS_PATH = '/api/v1/events';

export function addEventRoutes(router: Router, streams: EventStreams): void {
  addStreamRoute(router, EVENTS_PATH, streams.handle);
}

export interface EventStreamMount {
  front: Front;
  logger: Logger;
  /** Bytes held for a slow client before its stream is closed. */
  maxBufferedBytes: number;
  observe?: StreamOptions['observe'];
}

/** Sends the event stream's path (with and without a trailing slash) to the streaming wrapper; call before the catch-all route. */
export function mountEventStream(app: TemplatedApp, mount: EventStreamMount): void {
  const options: StreamOptions = {
    logger: mount.logger,
    maxBufferedBytes: mount.maxBufferedBytes,
    headers: EVENT_STREAM_HEADERS,
    ...(mount.observe ? { observe: mount.observe } : {}),
  };
  for (const path of [EVENTS_PATH, `${EVENTS_PATH}/`]) {
    app.get(path, (res, req) => serveStream(res, req, mount.front, options));
  }
}
