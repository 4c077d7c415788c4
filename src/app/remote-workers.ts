/**
 * The connected remote workers: each connection is attached to the remote executor and recorded by
 * its worker-session actor (durably, with worker_connected / worker_disconnected events); the last
 * sign of life of each is kept here in memory for `last_seen`.
 */
import type { DispatcherStats } from '../actors/dispatcher-messages.js';
import { DISPATCHER } from '../actors/dispatcher-messages.js';
import type { WorkerInfo } from '../actors/executors/executor.js';
import type { RemoteConnection, RemoteExecutor } from '../actors/executors/remote.js';
import { newId } from '../actors/ids.js';
import {
  WORKER_KIND,
  type WorkerSessionMsg,
  type WorkerSessionState,
  workerRef,
} from '../actors/worker-session.js';
import type { Clock } from '../runtime/clock.js';
import type { SnapshotStore } from '../runtime/store/snapshot-store.js';
import type { ActorSystem } from '../runtime/system.js';
import { isoTime } from '../schemas/common.js';
import type { WorkerRegistration, WorkerView } from './mailroom-api.js';

const PAGE = 1_000;

export class RemoteWorkers {
  private counter = 0;
  /** Epoch ms of each connected worker's last sign of life (any frame it sent). */
  private readonly lastSeen = new Map<string, number>();

  constructor(
    private readonly system: ActorSystem,
    private readonly store: SnapshotStore,
    private readonly remote: RemoteExecutor,
    private readonly clock: Clock,
  ) {}

  connect(registration: WorkerRegistration, connection: RemoteConnection): string {
    this.counter++;
    const id = `w-${newId().slice(0, 8)}-${this.counter}`;
    this.remote.attach(id, connection);
    this.lastSeen.set(id, this.clock.now());
    const worker: WorkerInfo = {
      id,
      name: registration.name,
      types: [...registration.types],
      gpuMemoryGb: registration.gpuMemoryGb,
      labels: [...registration.labels],
      slots: registration.slots,
    };
    // The session records the worker durably, emits worker_connected, then tells the dispatcher.
    this.system.tell(workerRef(id), { type: 'connect', worker } satisfies WorkerSessionMsg);
    return id;
  }

  setSlots(workerId: string, slots: number): void {
    this.system.tell(workerRef(workerId), { type: 'slots', slots } satisfies WorkerSessionMsg);
  }

  touch(workerId: string): void {
    if (this.lastSeen.has(workerId)) this.lastSeen.set(workerId, this.clock.now());
  }

  disconnect(workerId: string, reason = 'disconnected'): void {
    this.remote.detach(workerId);
    this.lastSeen.delete(workerId);
    this.system.tell(workerRef(workerId), { type: 'disconnect', reason } satisfies WorkerSessionMsg);
  }

  async list(): Promise<WorkerView[]> {
    const [page, queue] = await Promise.all([
      this.system.list(WORKER_KIND, 'connected', { limit: 10_000, descending: false }),
      this.system.ask<DispatcherStats>(DISPATCHER, { type: 'stats' }),
    ]);
    const sessions = await Promise.all(page.ids.map((id) => this.store.load(WORKER_KIND, id)));
    const views: WorkerView[] = [];
    for (const record of sessions) {
      const session = record?.state as WorkerSessionState | null | undefined;
      if (!session?.connected) continue;
      const { worker } = session;
      views.push({
        id: worker.id,
        name: worker.name,
        types: [...worker.types],
        capabilities: { gpu_memory_gb: worker.gpuMemoryGb, labels: [...worker.labels] },
        slots: worker.slots,
        running: queue.running_by_worker[worker.id] ?? 0,
        connected_at: isoTime(session.connectedAt)!,
        last_seen: isoTime(this.lastSeen.get(worker.id) ?? session.connectedAt)!,
      });
    }
    return views;
  }

  /** After a restart: sockets do not survive one, so every session still marked connected is over. */
  async endSessionsOfEarlierRun(): Promise<void> {
    let cursor: string | null = null;
    do {
      const page = await this.system.list(WORKER_KIND, 'connected', { limit: PAGE, cursor });
      for (const id of page.ids) {
        this.system.tell(workerRef(id), {
          type: 'disconnect',
          reason: 'server restarted',
        } satisfies WorkerSessionMsg);
      }
      cursor = page.next;
    } while (cursor);
  }
}
