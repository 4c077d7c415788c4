/**
 * The query of `GET /api/v1/events` (Server-Sent Events): which topics to follow and, for
 * clients that cannot send a `Last-Event-ID` header, where to resume.
 */
import { z } from 'zod';

/** `*`, or one subject: `job:<id>`, `workflow:<id>`, `type:<job type>`, `event:<event type>`, `worker:<id>`. */
export const EventTopic = z
  .string()
  .regex(
    /^(\*|(job|workflow|type|event|worker):[^\s,]{1,256})$/,
    'must be "*" or job:<id>, workflow:<id>, type:<job type>, event:<event type>, worker:<id>',
  );

/** An opaque cursor (`<epoch>.<seq>`) from an earlier event's `id`. */
export const EventCursor = z.string().min(1).max(300);

export const EventsQuery = z.object({
  /** Comma-separated topics. */
  topics: z
    .string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') })
    .transform((value) => [...new Set(value.split(',').map((topic) => topic.trim()))])
    .pipe(z.array(EventTopic).min(1).max(100)),
  last_event_id: EventCursor.optional(),
  /** The same as `last_event_id`. */
  since: EventCursor.optional(),
  key: z.string().optional(),
});
export type EventsQuery = z.infer<typeof EventsQuery>;
