/**
 * Reading what routes need from a request: the query string as an object, and path ids that
 * are checked before any actor is asked about them.
 */
import { MailroomError } from '../../errors.js';
import { RESOURCE_ID } from '../../schemas/http.js';
import type { HttpContext } from './exchange.js';

/**
 * The query string as plain fields. Empty values count as absent (`?status=` is a client
 * leaving a filter blank); a repeated name keeps its first value.
 */
export function queryFields(ctx: HttpContext): Record<string, string> {
  // No prototype: a field named `__proto__` or `constructor` is just a field.
  const fields: Record<string, string> = Object.create(null);
  if (ctx.query.length === 0) return fields;
  for (const [name, value] of new URLSearchParams(ctx.query)) {
    if (value !== '' && !(name in fields)) fields[name] = value;
  }
  return fields;
}

/** The `:id` path parameter, or NOT_FOUND when it cannot be the id of anything. */
export function pathId(ctx: HttpContext, noun: 'job' | 'workflow'): string {
  const id = ctx.params.id ?? '';
  if (!RESOURCE_ID.test(id)) throw new MailroomError('NOT_FOUND', `${noun} ${id.slice(0, 200)} not found`);
  return id;
}
