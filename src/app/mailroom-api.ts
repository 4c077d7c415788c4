/**
 * The typed in-process API of Mailroom (what createMailroom returns), and its options and views.
 */
import type { Logger } from 'pino';
import type { DispatcherStats } from '../actors/dispatcher-messages.js';
import type { BuiltinOffload } from '../actors/executors/builtin.js';
import type { ExecutionSink, Executor } from '../actors/executors/executor.js';
import type { RemoteConnection } from '../actors/executors/remote.js';
import type { JobFactory } from '../actors/job-factory.js';
import type { Clock } from '../runtime/clock.js';
import type { PreparedJob } from '../runtime/pool/prepare.js';
import type { SnapshotStore } from '../runtime/store/snapshot-store.js';
import type { ActorSystem, SystemOptions } from '../runtime/system.js';
import type { JobError } from '../schemas/common.js';
import type { FileConfig } from '../schemas/config.js';
import type { JobView } from '../schemas/job.js';
import type { WorkflowView } from '../schemas/workflow.js';
import type { BusDelivery, SubscribeOptions, Subscription } from './event-bus.js';
import type { ListQuery, Page } from './listing.js';
import type { WindowStats } from './stats.js';

export interface MailroomOptions {
  store: SnapshotStore;
  config: FileConfig;
  clock?: Clock;
  logger?: Logger;
  /** Extra executor adapters by name (`thread:<module>` and `http:<agent>` types name theirs). */
  executors?: Record<string, Executor>;
  /** In-process jobs the builtin executor runs at once. */
  builtinSlots?: number;
  /** Where builtin handlers send CPU-heavy work (the payload pool); inline without it. */
  offload?: BuiltinOffload;
  /** The actor scheduler's budgets (turn length, messages per slice); the runtime's defaults otherwise. */
  scheduler?: SystemOptions['scheduler'];
}

/** Who asked, for tracing: flows into every event the request causes. */
export interface RequestContext {
  traceId?: string | null;
  /** What the payload pool already did for this submit (input checked, content hashed). */
  prepared?: PreparedJob | null;
}

export interface Stats {
  jobs: { by_status: Record<string, number>; by_type: Record<string, number> };
  workflows: { by_status: Record<string, number> };
  queue: DispatcherStats;
  last_minute: WindowStats;
}

export interface WorkerRegistration {
  name: string;
  types: readonly string[];
  gpuMemoryGb: number;
  labels: readonly string[];
  slots: number;
}

export interface WorkerView {
  id: string;
  name: string;
  types: string[];
  capabilities: { gpu_memory_gb: number; labels: string[] };
  slots: number;
  running: number;
  connected_at: string;
  last_seen: string;
}

/** What an executor reports about the attempt it holds the lease of. */
export type WorkReport =
  | { kind: 'progress'; jobId: string; lease: string; progress: number; message?: string | undefined }
  | { kind: 'complete'; jobId: string; lease: string; output: unknown; cost?: number | undefined }
  | { kind: 'fail'; jobId: string; lease: string; error: JobError };

export interface Mailroom {
  submitJob(spec: unknown, context?: RequestContext): Promise<{ job: JobView; created: boolean }>;
  submitBatch(spec: unknown, context?: RequestContext): Promise<{ items: JobView[] }>;
  getJob(id: string): Promise<JobView>;
  /**
   * The job as getJob would return it, without waiting, when that is possible now (else undefined);
   * frozen, and the same object while the job is unchanged.
   */
  peekJob(id: string): JobView | undefined;
  listJobs(
    query: ListQuery & { status?: string; type?: string; workflow_id?: string },
  ): Promise<Page<JobView>>;
  cancelJob(id: string, reason?: string): Promise<JobView>;
  retryJob(id: string): Promise<JobView>;
  submitWorkflow(
    spec: unknown,
    context?: RequestContext,
  ): Promise<{ workflow: WorkflowView; created: boolean }>;
  getWorkflow(id: string): Promise<WorkflowView>;
  /** The workflow as getWorkflow would return it, without waiting, when possible now (else undefined); frozen, as peekJob's. */
  peekWorkflow(id: string): WorkflowView | undefined;
  listWorkflows(query: ListQuery & { status?: string; name?: string }): Promise<Page<WorkflowView>>;
  cancelWorkflow(id: string, reason?: string): Promise<WorkflowView>;
  retryWorkflow(id: string): Promise<WorkflowView>;
  /** Counts by status and type; with `since` (epoch ms), only jobs and workflows created since then. */
  stats(options?: { since?: number }): Promise<Stats>;
  subscribe(
    topics: readonly string[],
    since: string | undefined,
    listener: (d: BusDelivery) => void,
    options?: SubscribeOptions,
  ): Promise<Subscription>;
  /** Remote workers (the WebSocket worker protocol plugs in here). */
  connectWorker(registration: WorkerRegistration, connection: RemoteConnection): string;
  setWorkerSlots(workerId: string, slots: number): void;
  disconnectWorker(workerId: string, reason?: string): void;
  /** Records a sign of life from a connected worker (`last_seen`). */
  touchWorker(workerId: string): void;
  /**
   * A worker's report, settled once its effect is durable; rejects with LEASE_STALE when the lease
   * is not the job's current one (the result of an earlier attempt is never applied).
   */
  report(report: WorkReport): Promise<void>;
  listWorkers(): Promise<WorkerView[]>;
  readonly workerSink: ExecutionSink;
  readonly system: ActorSystem;
  readonly factory: JobFactory;
  /** After a restart on a durable store: re-arm timers and requeue pending and running jobs. */
  recover(): Promise<{ timers: number; requeued: number }>;
  shutdown(): Promise<void>;
}
