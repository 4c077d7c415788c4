/**
 * Turning bad input into VALIDATION_FAILED with one detail per offending field.
 */
import type { z } from 'zod';
import { type ErrorDetail, MailroomError } from '../errors.js';

/** Parses with a zod schema or throws VALIDATION_FAILED naming every problem by its path. */
export function parse<T extends z.ZodType>(schema: T, raw: unknown): z.infer<T> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  // Strict objects report unknown keys once, on the parent; name each key so it can be found
  // (as config.ts does): `jobs.1.colour`, not `jobs.1`.
  throw validation(
    result.error.issues.flatMap((issue) => {
      const paths =
        issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
      return paths.map((path) => ({
        path: path.map(String).join('.') || '(body)',
        message: issue.message,
      }));
    }),
  );
}

export function validation(details: ErrorDetail[]): MailroomError {
  const summary = details.map((detail) => `${detail.path}: ${detail.message}`).join('; ');
  return new MailroomError('VALIDATION_FAILED', `Validation failed: ${summary}`, { details });
}
