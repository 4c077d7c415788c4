/**
 * Crash healing end to end: a child process runs the app on Redis and submits workflows without
 * pause; it is SIGKILLed mid-stream, with jobs completed whose workflows had not yet heard of it
 * (its stored record shows the step unfinished). A new app on the same prefix recovers, and
 * every acknowledged workflow completes exactly once: every step completed once, one
 * workflow_completed per workflow in the durable event log, no step job run after it completed.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { afterAll, describe, expect, inject, it } from 'vitest';
import type { JobState } from '../../src/actors/job.js';
import { JOB_KIND } from '../../src/actors/job.js';
import { jobSnapshot } from '../../src/actors/job-snapshot.js';
import { WORKFLOW_KIND, type WorkflowState } from '../../src/actors/workflow.js';
import { workflowSnapshot } from '../../src/actors/workflow-snapshot.js';
import { createMailroom, type Mailroom } from '../../src/app/mailroom.js';
import { loadConfig } from '../../src/config.js';
import { createRedisStore, type RedisStore } from '../../src/runtime/store/redis-store.js';
import type { LoggedEvent } from '../../src/runtime/store/snapshot-store.js';
import type { MailroomEvent } from '../../src/schemas/events.js';
import { uniquePrefix } from '../support/redis.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

interface Acked {
  steps: number;
  n: number;
}

async function runChildUntilKilled(url: string, prefix: string, acks: number): Promise<Map<string, Acked>> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'test/fixtures/workflow-crash-child.ts', url, prefix],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const acked = new Map<string, Acked>();
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.once('exit', (_code, signal) => resolve(signal)),
  );
  await new Promise<void>((resolve, reject) => {
    const timeout = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`only ${acked.size} acks before timeout`));
    }, 30_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const [tag, id, steps, n] = line.split(' ');
      if (tag !== 'ack') return;
      acked.set(id!, { steps: Number(steps), n: Number(n) });
      if (acked.size === acks) {
        clearTimeout(timeout);
        child.kill('SIGKILL');
        resolve();
      }
    });
  });
  expect(await exited).toBe('SIGKILL');
  return acked;
}

async function allEvents(store: RedisStore): Promise<LoggedEvent[]> {
  const events: LoggedEvent[] = [];
  for (;;) {
    const page = await store.readEvents(events.at(-1)?.seq ?? 0, 5_000);
    events.push(...page);
    if (page.length < 5_000) return events;
  }
}

/** Completed step jobs whose end their workflow's stored record does not show. */
async function pendingStepResults(store: RedisStore, acked: Map<string, Acked>): Promise<number> {
  let pending = 0;
  for (const [id, { steps }] of acked) {
    const workflow = (await store.load(WORKFLOW_KIND, id))?.state as WorkflowState | undefined;
    for (let s = 0; s < steps; s++) {
      const rec = await store.load(JOB_KIND, `${id}-${s}`);
      if (!rec || (rec.state as JobState).status !== 'completed') continue;
      if (workflow?.steps[s]?.status !== 'completed') pending++;
    }
  }
  return pending;
}

describe('workflow crash healing', () => {
  it('completes every acknowledged workflow exactly once after SIGKILL and recovery', async () => {
    const url = inject('redisUrl');
    const prefix = uniquePrefix('wfcrash');
    const acked = await runChildUntilKilled(url, prefix, 400);

    const store = await createRedisStore({ url, prefix });
    cleanups.push(() => store.close());
    // Read here before any system registers the kinds (and with them how their states are stored).
    store.useCodec(JOB_KIND, jobSnapshot);
    store.useCodec(WORKFLOW_KIND, workflowSnapshot);
    for (const id of acked.keys()) {
      expect(await store.load(WORKFLOW_KIND, id), `acknowledged workflow ${id}`).toBeDefined();
    }
    // The premise: the kill caught jobs that had completed before their workflow advanced.
    expect(await pendingStepResults(store, acked)).toBeGreaterThan(0);
    const unfinished = await store.count(WORKFLOW_KIND, 'status:running');
    expect(unfinished).toBeGreaterThan(0);

    const app: Mailroom = await createMailroom({ store, config: loadConfig({ env: {} }).file });
    cleanups.push(() => app.shutdown());
    await app.recover();
    await expect
      .poll(() => store.count(WORKFLOW_KIND, 'status:running'), { timeout: 15_000, interval: 100 })
      .toBe(0);
    await app.system.idle();

    for (const [id, { steps, n }] of acked) {
      const view = await app.getWorkflow(id);
      expect(view.status, `workflow ${id}`).toBe('completed');
      expect(view.completed_steps).toBe(steps);
      expect(view.step_details.map((s) => [s.status, s.attempts, s.output])).toEqual(
        Array.from({ length: steps }, (_, s) => ['completed', 1, { n, hops: s }]),
      );
    }
    expect(await store.count(WORKFLOW_KIND, 'status:failed')).toBe(0);

    const log = await allEvents(store);
    const events = log.map((logged) => logged.event as MailroomEvent);
    expect(log.map((l) => l.seq)).toEqual(log.map((_, i) => log[0]!.seq + i));
    const completedWorkflows = new Map<string, number>();
    const jobCompleted = new Map<string, number>();
    const startedAfterCompletion: string[] = [];
    for (const event of events) {
      if (event.type === 'workflow_completed') {
        completedWorkflows.set(event.workflow_id, (completedWorkflows.get(event.workflow_id) ?? 0) + 1);
      }
      if (event.type === 'job_completed')
        jobCompleted.set(event.job_id, (jobCompleted.get(event.job_id) ?? 0) + 1);
      if (event.type === 'job_started' && jobCompleted.has(event.job_id))
        startedAfterCompletion.push(event.job_id);
    }
    expect(events.some((e) => e.type === 'workflow_failed' || e.type === 'job_failed')).toBe(false);
    expect([...completedWorkflows.values()].every((count) => count === 1)).toBe(true);
    expect([...jobCompleted.values()].every((count) => count === 1)).toBe(true);
    expect(startedAfterCompletion).toEqual([]);
    for (const [id, { steps }] of acked) {
      expect(completedWorkflows.get(id), `workflow_completed of ${id}`).toBe(1);
      for (let s = 0; s < steps; s++) expect(jobCompleted.get(`${id}-${s}`), `job ${id}-${s}`).toBe(1);
    }
    // Every workflow the child created, acknowledged or not, healed too.
    const created = new Set(events.flatMap((e) => (e.type === 'workflow_submitted' ? [e.workflow_id] : [])));
    expect(new Set(completedWorkflows.keys())).toEqual(created);
    for (const id of created) {
      expect(((await store.load(WORKFLOW_KIND, id))!.state as WorkflowState).status).toBe('completed');
    }
  }, 60_000);
});
