/**
 * API keys and per-key rate limits, checked before routing so that nothing about the API (not
 * even which routes exist) is visible without a key. `/health*` stays open for probes.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { MailroomError } from '../../errors.js';
import { errorReply, type HttpContext, type HttpReply } from './exchange.js';
import { RateLimiter } from './rate-limit.js';

export interface GuardOptions {
  /** Empty: auth (and with it rate limiting) is off. */
  apiKeys: readonly string[];
  rateLimit: { enabled: boolean; requests_per_second: number; burst: number };
  /** Milliseconds on a monotonic clock; injectable for tests. */
  now?: () => number;
}

/** A request that may go on is `null`; otherwise the 401 or 429 reply. */
export type Guard = (ctx: HttpContext) => HttpReply | null;

const OPEN: Guard = () => null;

export function createGuard(options: GuardOptions): Guard {
  if (options.apiKeys.length === 0) return OPEN;
  // Keys are compared as SHA-256 digests: equal lengths for timingSafeEqual whatever was sent,
  // so neither a key's content nor its length leaks through response timing.
  const digests = options.apiKeys.map(digest);
  const limiter = options.rateLimit.enabled
    ? new RateLimiter({
        ratePerSecond: options.rateLimit.requests_per_second,
        burst: options.rateLimit.burst,
        ...(options.now ? { now: options.now } : {}),
      })
    : null;

  return (ctx) => {
    if (isHealthPath(ctx.path)) return null;
    const presented = presentedKey(ctx.headers);
    if (presented === null) return unauthorized('Missing API key (send x-api-key or Authorization: Bearer)');
    const candidate = digest(presented);
    let matched = -1;
    // Every key is compared, match or not, so timing does not tell which key (or whether an early one) matched.
    for (let i = 0; i < digests.length; i++) {
      if (timingSafeEqual(candidate, digests[i]!) && matched < 0) matched = i;
    }
    if (matched < 0) return unauthorized('Invalid API key');
    if (!limiter) return null;
    const wait = limiter.take(String(matched));
    if (wait === 0) return null;
    const reply = errorReply(
      new MailroomError(
        'RATE_LIMITED',
        `Rate limit of ${options.rateLimit.requests_per_second} requests/s exceeded`,
      ),
    );
    return { ...reply, headers: { ...reply.headers, 'retry-after': String(wait) } };
  };
}

export function isHealthPath(path: string): boolean {
  return path === '/health' || path.startsWith('/health/');
}

function presentedKey(headers: Readonly<Record<string, string>>): string | null {
  const direct = headers['x-api-key'];
  if (direct) return direct;
  const authorization = headers.authorization;
  if (!authorization) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  return match ? match[1]! : null;
}

function digest(key: string): Buffer {
  return createHash('sha256').update(key).digest();
}

function unauthorized(message: string): HttpReply {
  const reply = errorReply(new MailroomError('UNAUTHORIZED', message));
  return { ...reply, headers: { ...reply.headers, 'www-authenticate': 'Bearer' } };
}
