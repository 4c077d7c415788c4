import { describe, expect, it } from 'vitest';
import { jobSnapshot } from '../../src/actors/job-snapshot.js';
import type { JobState } from '../../src/actors/job-state.js';

/** Every field set, and no two alike, so a field stored in another's place shows. */
const job: JobState = {
  id: 'j1',
  type: 'echo',
  status: 'running',
  priority: 7,
  input: { n: 1 },
  output: { n: 2 },
  error: { code: 'E', message: 'm', retryable: false },
  cost: 0.25,
  progress: 40,
  attempts: 2,
  maxAttempts: 5,
  timeoutMs: 1_000,
  backoff: { type: 'fixed', delay_ms: 10, max_delay_ms: 20 },
  needs: { gpuMemoryGb: 8, capabilities: ['cuda'] },
  workerId: 'w1',
  lease: 'l1',
  workflowId: 'wf1',
  step: 3,
  idempotencyKey: 'k1',
  metadata: { team: 'a' },
  webhookUrl: 'http://127.0.0.1:1/hook',
  traceId: 't1',
  createdAt: 1_000,
  runAt: 2_000,
  delayMs: 30,
  startedAt: 3_000,
  completedAt: 4_000,
  enqueuedAt: 5_000,
  cancelReason: 'why',
};

describe('jobSnapshot', () => {
  it('stores a job without its field names and reads back the same job, fields in the same order', () => {
    const stored = jobSnapshot.encode(job);
    expect(Array.isArray(stored)).toBe(true);
    expect(JSON.stringify(stored)).not.toContain('"status"');
    const decoded = jobSnapshot.decode(structuredClone(stored));
    expect(decoded).toEqual(job);
    expect(Object.keys(decoded!)).toEqual(Object.keys(job));
  });

  it('keeps "no job" as null', () => {
    expect(jobSnapshot.encode(null)).toBeNull();
    expect(jobSnapshot.decode(null)).toBeNull();
  });

  it('reads a job stored before layouts, as the object it was', () => {
    const older = { ...job, status: 'completed' };
    expect(jobSnapshot.decode(older)).toEqual(older);
  });

  it('refuses a layout it does not know instead of misreading it', () => {
    const stored = jobSnapshot.encode(job) as unknown[];
    stored[0] = 99;
    expect(() => jobSnapshot.decode(stored)).toThrow(/layout 99/);
  });
});
