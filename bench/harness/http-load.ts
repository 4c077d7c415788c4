/**
 * The HTTP side of the generator: an undici Pool with keep-alive connections (and pipelining when
 * asked), so the client is cheap per request and never the bottleneck it would be with fetch.
 * The same code drives Mailroom and the BullMQ peer.
 */
import { Pool } from 'undici';
import type { Outcome } from './load.js';

export interface HttpTarget {
  pool: Pool;
  close(): Promise<void>;
}

export function httpTarget(url: string, options: { connections: number; pipelining?: number }): HttpTarget {
  const pool = new Pool(url, {
    connections: options.connections,
    pipelining: options.pipelining ?? 1,
    keepAliveTimeout: 60_000,
    headersTimeout: 30_000,
    bodyTimeout: 30_000,
  });
  return { pool, close: () => pool.close() };
}

/**
 * A request whose answer body is not needed: ok on 2xx, else "http <status>". A large body is
 * best passed as a Buffer encoded once: undici would otherwise encode the string on every send.
 */
export function postSender(
  target: HttpTarget,
  path: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): () => Promise<Outcome> {
  const allHeaders = { 'content-type': 'application/json', ...headers };
  return async () => {
    const res = await target.pool.request({ method: 'POST', path, headers: allHeaders, body });
    await res.body.dump();
    return res.statusCode >= 200 && res.statusCode < 300 ? true : `http ${res.statusCode}`;
  };
}

/** A JSON request whose answer is needed; throws an Error with code `http <status>` otherwise. */
export async function requestJson<T>(
  target: HttpTarget,
  method: 'GET' | 'POST',
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await target.pool.request({
    method,
    path,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    body,
  });
  if (res.statusCode < 200 || res.statusCode >= 300) {
    await res.body.dump();
    throw Object.assign(new Error(`HTTP ${res.statusCode} for ${method} ${path}`), {
      code: `http ${res.statusCode}`,
    });
  }
  return (await res.body.json()) as T;
}
