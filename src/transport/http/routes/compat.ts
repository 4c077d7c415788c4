/**
 * What the compatibility routes share: the replaced service's error shape (`success: false`
 * beside the registry error), its validation messages, its status names and its stats windows.
 */
import { type ErrorCode, isMailroomError, MailroomError } from '../../../errors.js';
import { TIMEFRAMES, type Timeframe } from '../../../schemas/http.js';
import type { JobStatus } from '../../../schemas/job.js';
import type { HttpContext, HttpReply } from '../exchange.js';
import { queryFields } from '../params.js';

/** Everything under `/api/` that is not the v1 API speaks the replaced service's dialect. */
export function isCompatPath(path: string): boolean {
  return path.startsWith('/api/') && !path.startsWith('/api/v1/');
}

/**
 * The replaced service's clients test `success`; every error on a compatibility path (including
 * 401, 404, 413 and INVALID_JSON, decided before any route runs) carries `success: false`.
 */
export function shapeCompatReply(ctx: HttpContext, reply: HttpReply): HttpReply {
  if (reply.status < 400 || !isCompatPath(ctx.path)) return reply;
  const body = reply.body as { success?: unknown; error?: unknown } | undefined;
  if (!body || typeof body !== 'object' || body.success !== undefined || body.error === undefined)
    return reply;
  return { ...reply, body: { success: false, ...body } };
}

/**
 * A VALIDATION_FAILED from the domain, re-issued under the replaced service's code with its
 * message prefix ("Job validation failed: …"); the field details stay attached. Other errors pass.
 */
export function asCompatValidation(error: unknown, code: ErrorCode, prefix: string): unknown {
  if (!isMailroomError(error) || error.code !== 'VALIDATION_FAILED') return error;
  const details = error.details ?? [];
  const summary =
    details.length > 0
      ? details.map((detail) => `${detail.path}: ${detail.message}`).join('; ')
      : error.message;
  return new MailroomError(code, `${prefix}: ${summary}`, { details });
}

/** True for the domain's "no such job/workflow". */
export function isNotFound(error: unknown): boolean {
  return isMailroomError(error) && error.code === 'NOT_FOUND';
}

/**
 * Status names as the replaced service used them: it had no `delayed` (a retry waiting out its
 * backoff, or a job not yet due); for its clients such a job is simply still pending.
 */
export function compatStatus(status: JobStatus): string {
  return status === 'delayed' ? 'pending' : status;
}

/** `?timeframe=hour|day|week` (default day) and the creation time it starts at. */
export function timeframeOf(ctx: HttpContext, now = Date.now()): { timeframe: Timeframe; since: number } {
  const raw = queryFields(ctx).timeframe ?? 'day';
  if (!Object.hasOwn(TIMEFRAMES, raw)) {
    throw new MailroomError(
      'INVALID_TIMEFRAME',
      `Invalid timeframe "${raw.slice(0, 50)}": use hour, day or week`,
    );
  }
  const timeframe = raw as Timeframe;
  return { timeframe, since: now - TIMEFRAMES[timeframe] };
}

/** Error message of a job or step as the replaced service showed it: the text, or null. */
export function errorText(error: { message: string } | null): string | null {
  return error ? error.message : null;
}

/** Counts by status for the compatibility stats: a lookup that treats absent statuses as 0, and the total. */
export function statusCounts(byStatus: Readonly<Record<string, number>>): {
  total: number;
  n: (status: string) => number;
} {
  let total = 0;
  for (const count of Object.values(byStatus)) total += count;
  return { total, n: (status) => byStatus[status] ?? 0 };
}
