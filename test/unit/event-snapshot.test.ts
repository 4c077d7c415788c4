import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { EVENT_LAYOUTS, eventSnapshot } from '../../src/actors/event-snapshot.js';
import { MailroomEvent } from '../../src/schemas/events.js';

const packr = new Packr({ useRecords: false, moreTypes: false });
const roundTrip = (event: unknown) =>
  eventSnapshot.decode(packr.unpack(packr.pack(eventSnapshot.encode(event))));

const job = {
  id: 'evt_a_1',
  seq: 0,
  at: '2026-01-01T00:00:00.000Z',
  trace_id: 't',
  job_id: 'j',
  job_type: 'echo',
};
const workflow = { id: 'evt_a_2', seq: 0, at: '2026-01-01T00:00:00.001Z', trace_id: null, workflow_id: 'w' };
const detail = {
  step_index: 0,
  name: 'a',
  job_id: 'j',
  type: 'echo',
  status: 'failed',
  attempts: 1,
  output: null,
  error: { code: 'E', message: 'm', retryable: false },
  cost: null,
  started_at: null,
  completed_at: null,
};

/** One event of every type, every field set (values differ, so a field read from another's place shows). */
const EVENTS = [
  { ...job, workflow_id: null, type: 'job_submitted', status: 'pending' },
  { ...job, workflow_id: 'w', type: 'job_started', attempt: 2, worker_id: 'builtin' },
  { ...job, workflow_id: null, type: 'job_progress', progress: 40, message: 'half' },
  { ...job, workflow_id: null, type: 'job_completed', output: { n: [1, 'x'] }, cost: 0.5, attempts: 1 },
  {
    ...job,
    workflow_id: null,
    type: 'job_failed',
    error: { code: 'E', message: 'm', retryable: true },
    attempts: 3,
  },
  {
    ...job,
    workflow_id: null,
    type: 'job_retrying',
    error: { code: 'E', message: 'm', retryable: true },
    attempt: 1,
    retry_at: '2026-01-01T00:00:01.000Z',
  },
  { ...job, workflow_id: null, type: 'job_cancelled', reason: null },
  { ...workflow, workflow_name: 'n', type: 'workflow_submitted', total_steps: 4 },
  {
    ...workflow,
    workflow_name: 'n',
    type: 'workflow_step_completed',
    step_index: 1,
    step_name: 'b',
    job_id: 'j2',
    completed_steps: 2,
    total_steps: 4,
  },
  { ...workflow, workflow_name: 'n', type: 'workflow_completed', step_details: [detail], cost: 1.5 },
  {
    ...workflow,
    workflow_name: 'n',
    type: 'workflow_failed',
    step_details: [detail],
    cost: 0,
    error: { code: 'E', message: 'm', retryable: false },
  },
  { ...workflow, workflow_name: 'n', type: 'workflow_cancelled', step_details: [], cost: 0, reason: 'r' },
  {
    id: 'evt_a_3',
    seq: 0,
    at: 'x',
    trace_id: null,
    type: 'worker_connected',
    worker_id: 'w1',
    name: 'gpu',
    types: ['echo'],
  },
  {
    id: 'evt_a_4',
    seq: 0,
    at: 'x',
    trace_id: null,
    type: 'worker_disconnected',
    worker_id: 'w1',
    name: 'gpu',
    reason: null,
  },
];

describe('eventSnapshot', () => {
  it('covers every event type, and the fixtures are valid events', () => {
    const types = MailroomEvent.options.map((schema) => schema.shape.type.value);
    expect(EVENTS.map((event) => event.type)).toEqual(types);
    for (const event of EVENTS) expect(MailroomEvent.safeParse(event).success).toBe(true);
  });

  it('stores every event as its layout number and values, and reads back the same event, fields in order', () => {
    for (const event of EVENTS) {
      const stored = eventSnapshot.encode(event);
      // The fixtures list their fields in their schema's order.
      expect((stored as unknown[]).slice(1)).toEqual(Object.values(event));
      const back = roundTrip(event) as Record<string, unknown>;
      expect(back).toEqual(event);
      expect(Object.keys(back)).toEqual(Object.keys(event));
    }
  });

  it('keeps the field list of every layout number: changing one needs a new number', () => {
    // A schema whose fields change fails here: give its type a new number in SCHEMAS, so that
    // events logged under the old one still decode with the old list.
    const job = ['id', 'seq', 'at', 'trace_id', 'job_id', 'job_type', 'workflow_id', 'type'];
    const wf = ['id', 'seq', 'at', 'trace_id', 'workflow_id', 'workflow_name', 'type'];
    const worker = ['id', 'seq', 'at', 'trace_id', 'type', 'worker_id', 'name'];
    expect(Object.fromEntries(EVENT_LAYOUTS)).toEqual({
      1: [...job, 'status'],
      2: [...job, 'attempt', 'worker_id'],
      3: [...job, 'progress', 'message'],
      4: [...job, 'output', 'cost', 'attempts'],
      5: [...job, 'error', 'attempts'],
      6: [...job, 'error', 'attempt', 'retry_at'],
      7: [...job, 'reason'],
      8: [...wf, 'total_steps'],
      9: [...wf, 'step_index', 'step_name', 'job_id', 'completed_steps', 'total_steps'],
      10: [...wf, 'step_details', 'cost'],
      11: [...wf, 'step_details', 'cost', 'error'],
      12: [...wf, 'step_details', 'cost', 'reason'],
      13: [...worker, 'types'],
      14: [...worker, 'reason'],
    });
  });

  it('stores as it is an event with fields its type does not have, without some, in another order, or of no known type', () => {
    const extra = { ...EVENTS[0], note: 'x' };
    const missing: Record<string, unknown> = { ...EVENTS[0] };
    delete missing.status;
    const { id, ...rest } = EVENTS[0]!;
    const reordered = { ...rest, id };
    const unknown = { id: 'e', type: 'something_else', value: 1 };
    for (const event of [extra, missing, reordered, unknown]) {
      expect(eventSnapshot.encode(event)).toBe(event);
      expect(roundTrip(event)).toEqual(event);
    }
  });

  it('reads events logged before layouts as they are, and refuses a layout it does not know', () => {
    expect(eventSnapshot.decode(EVENTS[3])).toBe(EVENTS[3]);
    expect(() => eventSnapshot.decode([99, 'x'])).toThrow(/layout 99/);
  });
});
