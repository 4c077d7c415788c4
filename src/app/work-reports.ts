/**
 * How executors' reports reach the job actors: a fire-and-forget sink for in-process executors
 * (builtin, thread), and an acknowledged report for remote workers, settled once durable.
 */
import type { ExecutionSink } from '../actors/executors/executor.js';
import { type JobMsg, jobRef } from '../actors/job.js';
import type { ActorSystem } from '../runtime/system.js';
import type { WorkReport } from './mailroom-api.js';

export function executionSink(system: ActorSystem): ExecutionSink {
  return {
    progress: (jobId, lease, progress, message) =>
      system.tell(jobRef(jobId), reportMessage({ kind: 'progress', jobId, lease, progress, message })),
    complete: (jobId, lease, output, cost) =>
      system.tell(jobRef(jobId), reportMessage({ kind: 'complete', jobId, lease, output, cost })),
    fail: (jobId, lease, error) => system.tell(jobRef(jobId), { type: 'fail', lease, error }),
  };
}

/** Settles once the report's effect is durable; rejects with LEASE_STALE for a lease that is not current. */
export async function reportWork(system: ActorSystem, report: WorkReport): Promise<void> {
  await system.ask(jobRef(report.jobId), reportMessage(report));
}

/** The job actor's message for an executor's report. */
function reportMessage(report: WorkReport): JobMsg {
  switch (report.kind) {
    case 'progress':
      return {
        type: 'progress',
        lease: report.lease,
        progress: report.progress,
        ...(report.message === undefined ? {} : { message: report.message }),
      };
    case 'complete':
      return {
        type: 'complete',
        lease: report.lease,
        output: report.output,
        ...(report.cost === undefined ? {} : { cost: report.cost }),
      };
    case 'fail':
      return { type: 'fail', lease: report.lease, error: report.error };
  }
}
