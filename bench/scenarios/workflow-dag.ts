/**
 * workflow-dag: diamond workflows (a → b, a → c, b + c → d; four echo steps, templates passing
 * outputs along) over HTTP. One operation is submit → the workflow's terminal state, found by
 * polling GET /api/v1/workflows/:id every POLL_MS, so latencies carry up to POLL_MS of polling
 * granularity and the polls are part of the load (counted in the report).
 * BullMQ has no equivalent: its flows are trees (a parent waits for its children), so a diamond
 * would run `a` twice. With --compare bullmq this scenario runs Mailroom alone and says why.
 */
import type { JobView } from '../../src/schemas/job.js';
import { httpTarget, requestJson } from '../harness/http-load.js';
import type { Outcome } from '../harness/load.js';
import { loadPlan, measure } from '../harness/run.js';
import { authHeaders, mailroomTarget, runRedis, type Scenario, sleep } from './common.js';
import { describePlan, settings } from './submit-http.js';

const DEFAULTS = { durationMs: 10_000, connections: 32 };
const POLL_MS = 5;
const TIMEOUT_MS = 30_000;

function diamond(payloadBytes: number): string {
  return JSON.stringify({
    name: 'bench-diamond',
    input: { data: 'x'.repeat(payloadBytes) },
    steps: [
      { name: 'a', type: 'echo', input: { data: '{{ input.data }}' } },
      { name: 'b', type: 'echo', depends_on: ['a'], input: { from_a: '{{ steps.a.output.data }}' } },
      { name: 'c', type: 'echo', depends_on: ['a'], input: { n: 1 } },
      {
        name: 'd',
        type: 'echo',
        depends_on: ['b', 'c'],
        input: { b: '{{ steps.b.output.from_a }}', c: '{{ steps.c.output.n }}' },
      },
    ],
  });
}

export const workflowDag: Scenario = {
  name: 'workflow-dag',
  description: 'diamond workflows (4 echo steps) over HTTP; latency = submit → workflow completed (polled)',
  unavailable: async () => undefined,
  async run(ctx) {
    const { args } = ctx;
    const plan = loadPlan(args, DEFAULTS);
    const redis = await runRedis(args);
    const target = await mailroomTarget(args, redis).catch(async (error: unknown) => {
      await redis?.stop();
      throw error;
    });
    // Polls need their own connections, or they would queue behind submits in a closed loop.
    const http = httpTarget(target.url, { connections: plan.connections * 2, pipelining: args.pipelining });
    const headers = authHeaders(args);
    const body = diamond(args.payloadBytes);
    let polls = 0;
    let failedRuns = 0;
    const send = async (): Promise<Outcome> => {
      const wf = await requestJson<{ id: string }>(http, 'POST', '/api/v1/workflows', body, headers);
      const deadline = performance.now() + TIMEOUT_MS;
      for (;;) {
        await sleep(POLL_MS);
        polls++;
        const view = await requestJson<{ status: string; step_details: JobView[] }>(
          http,
          'GET',
          `/api/v1/workflows/${wf.id}`,
          undefined,
          headers,
        );
        if (view.status === 'completed') return true;
        if (view.status === 'failed' || view.status === 'cancelled') {
          failedRuns++;
          return `workflow ${view.status}`;
        }
        if (performance.now() > deadline) return 'timeout';
      }
    };
    try {
      ctx.log(
        `mailroom: ${target.url} (${redis ? 'Redis store' : 'in-memory store'}), ${describePlan(plan)}`,
      );
      const result = await measure({
        system: 'mailroom',
        measure: 'POST /api/v1/workflows → completed (polled every 5 ms)',
        plan,
        send,
        quiet: args.quiet,
        pids: { server: target.pid, redis: redis?.localPid },
        died: target.died,
        afterWarmup: async () => {
          polls = 0;
        },
      });
      result.extra.steps_per_s = result.throughput * 4;
      result.extra.polls_per_workflow =
        result.ok + result.errors > 0 ? polls / (result.ok + result.errors) : 0;
      const notes = [
        `latency includes up to ${POLL_MS} ms of polling granularity; the polls are part of the load`,
      ];
      if (args.compare === 'bullmq') {
        notes.push(
          'not compared with BullMQ: BullMQ flows are trees (a parent waits for its children), so a diamond would run step a twice; no equivalent workload exists',
        );
      }
      return {
        results: [result],
        notes,
        settings: { ...settings(args), poll_ms: POLL_MS, steps: 4 },
        ...(redis ? { redisVersion: redis.version } : {}),
        ...(failedRuns > 0 ? { failure: `${failedRuns} workflows did not complete` } : {}),
      };
    } finally {
      await http.close();
      await target.stop();
      await redis?.stop();
    }
  },
};
