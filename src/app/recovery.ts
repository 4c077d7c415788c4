/**
 * After a restart: every job that was pending or running goes back into the dispatcher's queue
 * (a running one lost its executor with the process), in bounded waves.
 */
import { JOB_KIND, type JobMsg, jobRef } from '../actors/job.js';
import type { ActorSystem } from '../runtime/system.js';

const RECOVERY_PAGE = 1_000;

/** Tells every pending or running job to requeue itself; resolves with how many there were. */
export async function requeueUnfinishedJobs(system: ActorSystem): Promise<number> {
  // Both lists are read before any job is requeued. Listing `running` after the pending jobs
  // were requeued also caught those that had just been leased again in this process: requeued a
  // second time, they forgot their live lease, whose executor slot then leaked for good.
  const ids: string[] = [];
  for (const status of ['pending', 'running'] as const) {
    let cursor: string | null = null;
    do {
      const page = await system.list(JOB_KIND, `status:${status}`, { limit: RECOVERY_PAGE, cursor });
      ids.push(...page.ids);
      cursor = page.next;
    } while (cursor);
  }
  for (let start = 0; start < ids.length; start += RECOVERY_PAGE) {
    for (const id of ids.slice(start, start + RECOVERY_PAGE)) {
      system.tell(jobRef(id), { type: 'requeue' } satisfies JobMsg);
    }
    // Let the requeued jobs activate in bounded waves instead of all at once.
    await system.idle();
  }
  return ids.length;
}
