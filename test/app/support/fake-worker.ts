/**
 * A remote worker without a socket: it records what the dispatcher sends it (assign, cancel) and
 * lets a test report progress, completion or failure through `app.workerSink` with the lease it
 * was given, exactly as the WebSocket worker protocol would.
 */
import type { Assignment } from '../../../src/actors/executors/executor.js';
import type { RemoteConnection } from '../../../src/actors/executors/remote.js';
import type { Mailroom, WorkerRegistration } from '../../../src/app/mailroom.js';
import type { JobError } from '../../../src/schemas/common.js';

export interface CancelRecord {
  jobId: string;
  lease: string;
  reason: string;
}

export class FakeWorker implements RemoteConnection {
  readonly assigns: Assignment[] = [];
  readonly cancels: CancelRecord[] = [];
  /** Most assignments this worker held at once (assigned, not yet reported or cancelled). */
  maxActive = 0;
  id = '';
  private readonly done = new Set<string>();

  private constructor(
    private readonly app: Mailroom,
    readonly registration: WorkerRegistration,
  ) {}

  static connect(
    app: Mailroom,
    registration: Partial<WorkerRegistration> & { types: readonly string[] },
  ): FakeWorker {
    const full: WorkerRegistration = {
      name: 'fake',
      gpuMemoryGb: 0,
      labels: [],
      slots: 1,
      ...registration,
    };
    const worker = new FakeWorker(app, full);
    worker.id = app.connectWorker(full, worker);
    return worker;
  }

  assign(assignment: Assignment): void {
    this.assigns.push(assignment);
    this.maxActive = Math.max(this.maxActive, this.active.length);
  }

  cancel(jobId: string, lease: string, reason: string): void {
    this.cancels.push({ jobId, lease, reason });
    this.done.add(lease);
  }

  /** Assignments not yet reported on or cancelled, oldest first. */
  get active(): Assignment[] {
    return this.assigns.filter((a) => !this.done.has(a.lease));
  }

  /** The latest assignment of a job (throws when the job was never assigned here). */
  assignment(jobId: string): Assignment {
    const found = this.assigns.findLast((a) => a.jobId === jobId);
    if (!found) throw new Error(`job ${jobId} was never assigned to worker ${this.id}`);
    return found;
  }

  complete(target: string | Assignment, output: unknown = { ok: true }, cost?: number): void {
    const a = this.resolve(target);
    this.done.add(a.lease);
    this.app.workerSink.complete(a.jobId, a.lease, output, cost);
  }

  fail(target: string | Assignment, error: JobError): void {
    const a = this.resolve(target);
    this.done.add(a.lease);
    this.app.workerSink.fail(a.jobId, a.lease, error);
  }

  progress(target: string | Assignment, progress: number, message?: string): void {
    const a = this.resolve(target);
    this.app.workerSink.progress(a.jobId, a.lease, progress, message);
  }

  setSlots(slots: number): void {
    this.app.setWorkerSlots(this.id, slots);
  }

  disconnect(): void {
    this.app.disconnectWorker(this.id);
  }

  private resolve(target: string | Assignment): Assignment {
    return typeof target === 'string' ? this.assignment(target) : target;
  }
}
