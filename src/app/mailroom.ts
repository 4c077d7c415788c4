import { planDag } from '../actors/dag.js';
import { createDispatcherLogic } from '../actors/dispatcher.js';
import { DISPATCHER, DISPATCHER_KIND, type DispatcherStats } from '../actors/dispatcher-messages.js';
import { eventSnapshot } from '../actors/event-snapshot.js';
import { RemoteExecutor } from '../actors/executors/remote.js';
import {
  type Claim,
  createIdempotencyLogic,
  IDEMPOTENCY_KIND,
  idempotencyRef,
} from '../actors/idempotency.js';
import { newId } from '../actors/ids.js';
import { createJobLogic, JOB_KIND, type JobMsg, type JobState, jobRef } from '../actors/job.js';
import { JobFactory } from '../actors/job-factory.js';
import { frozenViews, jobView, workflowView } from '../actors/views.js';
import { createWorkerSessionLogic, WORKER_KIND } from '../actors/worker-session.js';
import {
  createWorkflowLogic,
  WORKFLOW_KIND,
  type WorkflowMsg,
  type WorkflowState,
  workflowRef,
} from '../actors/workflow.js';
import { type ErrorDetail, MailroomError } from '../errors.js';
import { systemClock } from '../runtime/clock.js';
import { contentDigest } from '../runtime/pool/content-digest.js';
import { EncodedInput, plainInput } from '../runtime/pool/encoded-input.js';
import type { PreparedJob } from '../runtime/pool/prepare.js';
import { createSystem } from '../runtime/system.js';
import type { MailroomEvent } from '../schemas/events.js';
import { BatchSpec, JOB_STATUSES, JobSpec, type JobView } from '../schemas/job.js';
import { WORKFLOW_STATUSES, WorkflowSpec, type WorkflowView } from '../schemas/workflow.js';
import { EventBus } from './event-bus.js';
import { dispatchedTypes, wireExecutors } from './executors.js';
import { type ListQuery, listByIds, listByTags, type Page } from './listing.js';
import type { Mailroom, MailroomOptions, RequestContext, Stats } from './mailroom-api.js';
import { parse, validation } from './validation.js';

export type { ListQuery, Page };

import { requeueUnfinishedJobs } from './recovery.js';
import { RemoteWorkers } from './remote-workers.js';
import { RollingStats } from './stats.js';
import { executionSink, reportWork } from './work-reports.js';

/** `idempotency_key: "content"`: the key is the job's content digest (type and canonical input). */
const CONTENT_KEY = 'content';

/** A checked job spec: its input as the job keeps it, and its content digest when already known. */
type PreparedSpec = JobSpec & { digest?: string };

export type {
  Mailroom,
  MailroomOptions,
  RequestContext,
  Stats,
  WorkerRegistration,
  WorkerView,
} from './mailroom-api.js';

/** The index tags every job (every workflow) has exactly one of: listing them all pages over these. */
const JOB_STATUS_TAGS = JOB_STATUSES.map((status) => `status:${status}`);
const WORKFLOW_STATUS_TAGS = WORKFLOW_STATUSES.map((status) => `status:${status}`);

export async function createMailroom(options: MailroomOptions): Promise<Mailroom> {
  const clock = options.clock ?? systemClock;
  const config = options.config;
  const factory = new JobFactory(config);
  const remote = new RemoteExecutor();
  const peekedJobView = frozenViews(jobView);
  const peekedWorkflowView = frozenViews(workflowView);
  options.store.useEventCodec?.(eventSnapshot);
  const system = createSystem({
    store: options.store,
    clock,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
  });
  const sink = executionSink(system);
  const workers = new RemoteWorkers(system, options.store, remote, clock);
  const { executors, unavailable } = wireExecutors(config, remote, clock, options);
  for (const [type, executor] of unavailable) {
    options.logger?.warn({ type, executor }, 'job type has no executor in this server; submits are refused');
  }
  system.register(JOB_KIND, createJobLogic({ retentionMs: config.retention_ms }));
  system.register(
    WORKFLOW_KIND,
    createWorkflowLogic({ factory, retentionMs: config.retention_ms, watchSteps: options.store.durable }),
  );
  system.register(IDEMPOTENCY_KIND, createIdempotencyLogic({ retentionMs: config.retention_ms }));
  system.register(WORKER_KIND, createWorkerSessionLogic({ retentionMs: config.retention_ms }));
  system.register(
    DISPATCHER_KIND,
    createDispatcherLogic({
      types: dispatchedTypes(config),
      executors,
      sink,
      builtinSlots: options.builtinSlots ?? 1_024,
    }),
  );

  const bus = new EventBus(options.store, options.logger);
  await bus.start();
  const rolling = new RollingStats(clock);
  system.onEvent(({ event, seq }) => {
    // Events are emitted with `seq: 0` and stamped here with their log position, in place: the
    // event is this listener's alone (the memory store's log holds the same object, and its seq).
    const stamped = event as MailroomEvent;
    stamped.seq = seq;
    rolling.record(stamped);
    bus.publish(stamped);
  });

  async function submitJob(
    raw: unknown,
    context?: RequestContext,
  ): Promise<{ job: JobView; created: boolean }> {
    const spec = parse(JobSpec, raw);
    return createJob(checkJob(spec, '', context?.prepared), context);
  }

  /**
   * Throws VALIDATION_FAILED or EXECUTOR_UNAVAILABLE; returns the spec with its input as the job
   * keeps it. When the payload pool already checked this input (`prepared`), its findings are used
   * instead of checking again on the event loop: the same function made them, so the details match.
   */
  function checkJob(spec: JobSpec, prefix: string, prepared?: PreparedJob | null): PreparedSpec {
    if (!factory.isKnownType(spec.type)) {
      throw validation([{ path: `${prefix}type`, message: `unknown job type "${spec.type}"` }]);
    }
    const done = prepared?.type === spec.type ? prepared : undefined;
    // A large input the pool kept as JSON text stays that way (runtime/pool/encoded-input.ts).
    const { input, problems } = done
      ? { input: done.inputJson ? new EncodedInput(done.inputJson) : spec.input, problems: done.problems }
      : factory.prepareInput(spec.type, spec.input, `${prefix}input`);
    if (problems.length > 0) throw validation(problems);
    refuseUnavailable([spec.type]);
    return { ...spec, input, ...(done?.digest ? { digest: done.digest } : {}) };
  }

  function refuseUnavailable(types: readonly string[]): void {
    const missing = types.filter((type) => unavailable.has(type));
    if (missing.length === 0) return;
    const names = [...new Set(missing)].map((type) => `"${type}" (${unavailable.get(type)})`).join(', ');
    throw new MailroomError('EXECUTOR_UNAVAILABLE', `no executor for job type ${names} in this server`);
  }

  async function createJob(
    spec: PreparedSpec,
    context?: RequestContext,
  ): Promise<{ job: JobView; created: boolean }> {
    let id = newId();
    // A new id was never written: the job starts without a store read, unless a key maps to an older one.
    let fresh = true;
    if (spec.idempotency_key === CONTENT_KEY) {
      // Identical inputs of one type share a key: the digest the pool computed, or one made here.
      spec.idempotency_key = `content:${spec.digest ?? contentDigest(spec.type, plainInput(spec.input))}`;
    }
    if (spec.idempotency_key !== undefined) {
      const claim = await system.ask<Claim>(idempotencyRef('job', spec.idempotency_key), {
        type: 'claim',
        id,
      });
      id = claim.id;
      if (!claim.created) {
        fresh = false;
        const existing = await system.ask<JobState | null>(jobRef(id), { type: 'get' }).catch(() => null);
        // A crash between claiming the key and creating the job leaves the claim alone: create now.
        if (existing) return { job: jobView(existing), created: false };
      }
    }
    const { type, input, idempotency_key: key, digest: _digest, ...jobOptions } = spec;
    const job = factory.build({
      id,
      type,
      options: jobOptions,
      input,
      waiting: false,
      idempotencyKey: key ?? null,
      traceId: context?.traceId ?? null,
      now: clock.now(),
    });
    const state = await system.ask<JobState>(jobRef(id), { type: 'create', job } satisfies JobMsg, { fresh });
    return { job: jobView(state), created: true };
  }

  async function submitBatch(raw: unknown, context?: RequestContext): Promise<{ items: JobView[] }> {
    const batch = parse(BatchSpec, raw);
    const problems: ErrorDetail[] = [];
    const checked: PreparedSpec[] = [];
    batch.jobs.forEach((spec, index) => {
      try {
        checked.push(checkJob(spec, `jobs.${index}.`));
      } catch (error) {
        problems.push(...((error as MailroomError).details ?? []));
      }
    });
    if (problems.length > 0) throw validation(problems);
    // Asked together, so the group commit writes the whole batch at once.
    const results = await Promise.all(checked.map((spec) => createJob(spec, context)));
    return { items: results.map((result) => result.job) };
  }

  async function submitWorkflow(raw: unknown, context?: RequestContext) {
    const spec = parse(WorkflowSpec, raw);
    const planned = planDag(spec.steps, (type) => factory.isKnownType(type));
    if (!planned.problems) refuseUnavailable(spec.steps.map((step) => step.type));
    if (planned.problems) throw validation(planned.problems);
    let id = newId();
    let fresh = true;
    if (spec.idempotency_key !== undefined) {
      const claim = await system.ask<Claim>(idempotencyRef('workflow', spec.idempotency_key), {
        type: 'claim',
        id,
      });
      id = claim.id;
      if (!claim.created) {
        fresh = false;
        const existing = await system
          .ask<WorkflowState | null>(workflowRef(id), { type: 'get' })
          .catch(() => null);
        if (existing) return { workflow: workflowView(existing), created: false };
      }
    }
    const state = await system.ask<WorkflowState>(
      workflowRef(id),
      {
        type: 'create',
        workflow: {
          id,
          name: spec.name,
          definition: null,
          version: null,
          onFailure: spec.on_failure,
          input: spec.input,
          steps: spec.steps,
          plan: planned.plan.steps,
          webhookUrl: spec.webhook_url ?? null,
          idempotencyKey: spec.idempotency_key ?? null,
          metadata: spec.metadata ?? null,
          traceId: context?.traceId ?? null,
          createdAt: clock.now(),
        },
        fresh,
      } satisfies WorkflowMsg,
      { fresh },
    );
    return { workflow: workflowView(state), created: true };
  }

  async function getJob(id: string): Promise<JobView> {
    return jobView(await system.ask<JobState>(jobRef(id), { type: 'get' } satisfies JobMsg));
  }

  // Reads of an actor at rest skip the mailbox, the turn and the promise (GET's hot path), and a
  // state polled again and again is viewed once: the same frozen view until the state changes.
  function peekJob(id: string): JobView | undefined {
    const state = system.peek(jobRef(id))?.state as JobState | null | undefined;
    return state ? peekedJobView(state) : undefined;
  }

  function peekWorkflow(id: string): WorkflowView | undefined {
    const state = system.peek(workflowRef(id))?.state as WorkflowState | null | undefined;
    return state ? peekedWorkflowView(state) : undefined;
  }

  async function getWorkflow(id: string): Promise<WorkflowView> {
    return workflowView(
      await system.ask<WorkflowState>(workflowRef(id), { type: 'get' } satisfies WorkflowMsg),
    );
  }

  async function listJobs(query: ListQuery & { status?: string; type?: string; workflow_id?: string }) {
    if (query.status !== undefined && !(JOB_STATUSES as readonly string[]).includes(query.status)) {
      throw validation([{ path: 'status', message: `must be one of ${JOB_STATUSES.join(', ')}` }]);
    }
    const filters: string[] = [];
    if (query.status) filters.push(`status:${query.status}`);
    if (query.type) filters.push(`type:${query.type}`);
    const tagsOf = (job: JobState) => [`status:${job.status}`, `type:${job.type}`];
    if (query.workflow_id) {
      // A workflow's record names its step jobs: no index set per workflow (see job.ts index).
      const record = await options.store.load(WORKFLOW_KIND, query.workflow_id);
      const steps = (record?.state as WorkflowState | null | undefined)?.steps ?? [];
      const ids = steps.map((step) => step.jobId);
      return listByIds<JobState, JobView>(options.store, JOB_KIND, ids, filters, query, jobView, tagsOf);
    }
    return listByTags<JobState, JobView>(
      options.store,
      JOB_KIND,
      filters,
      JOB_STATUS_TAGS,
      query,
      jobView,
      tagsOf,
    );
  }

  async function listWorkflows(query: ListQuery & { status?: string; name?: string }) {
    if (query.status !== undefined && !(WORKFLOW_STATUSES as readonly string[]).includes(query.status)) {
      throw validation([{ path: 'status', message: `must be one of ${WORKFLOW_STATUSES.join(', ')}` }]);
    }
    const filters: string[] = [];
    if (query.status) filters.push(`status:${query.status}`);
    if (query.name) filters.push(`name:${query.name}`);
    return listByTags<WorkflowState, WorkflowView>(
      options.store,
      WORKFLOW_KIND,
      filters,
      WORKFLOW_STATUS_TAGS,
      query,
      workflowView,
      (wf) => [`status:${wf.status}`, `name:${wf.name}`],
    );
  }

  async function stats(window: { since?: number } = {}): Promise<Stats> {
    // Index scores are creation times, so "since" is a score range (ZCOUNT on Redis).
    const count = (kind: string, tag: string) => options.store.count(kind, tag, window.since);
    const [jobStatus, jobTypes, workflowStatus, queue] = await Promise.all([
      Promise.all(
        JOB_STATUSES.map(async (status) => [status, await count(JOB_KIND, `status:${status}`)] as const),
      ),
      Promise.all(
        factory.typeNames().map(async (type) => [type, await count(JOB_KIND, `type:${type}`)] as const),
      ),
      Promise.all(
        WORKFLOW_STATUSES.map(
          async (status) => [status, await count(WORKFLOW_KIND, `status:${status}`)] as const,
        ),
      ),
      system.ask<DispatcherStats>(DISPATCHER, { type: 'stats' }),
    ]);
    return {
      jobs: { by_status: Object.fromEntries(jobStatus), by_type: Object.fromEntries(jobTypes) },
      workflows: { by_status: Object.fromEntries(workflowStatus) },
      queue,
      last_minute: rolling.window(),
    };
  }

  async function recover(): Promise<{ timers: number; requeued: number }> {
    const { timers } = await system.recover();
    await workers.endSessionsOfEarlierRun();
    return { timers, requeued: await requeueUnfinishedJobs(system) };
  }

  return {
    submitJob,
    submitBatch,
    getJob,
    peekJob,
    peekWorkflow,
    listJobs,
    cancelJob: async (id, reason) =>
      jobView(await system.ask<JobState>(jobRef(id), { type: 'cancel', ...(reason ? { reason } : {}) })),
    retryJob: async (id) => jobView(await system.ask<JobState>(jobRef(id), { type: 'retry' })),
    submitWorkflow,
    getWorkflow,
    listWorkflows,
    cancelWorkflow: async (id, reason) =>
      workflowView(
        await system.ask<WorkflowState>(workflowRef(id), { type: 'cancel', ...(reason ? { reason } : {}) }),
      ),
    retryWorkflow: async (id) =>
      workflowView(await system.ask<WorkflowState>(workflowRef(id), { type: 'retry' })),
    stats,
    subscribe: (topics, since, listener, options) => bus.subscribe(topics, since, listener, options),
    connectWorker: (registration, connection) => workers.connect(registration, connection),
    setWorkerSlots: (workerId, slots) => workers.setSlots(workerId, slots),
    touchWorker: (workerId) => workers.touch(workerId),
    disconnectWorker: (workerId, reason) => workers.disconnect(workerId, reason),
    listWorkers: () => workers.list(),
    workerSink: sink,
    report: (report) => reportWork(system, report),
    system,
    factory,
    recover,
    shutdown: () => system.shutdown(),
  };
}
