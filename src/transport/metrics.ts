/**
 * Prometheus metrics of one server, in a Registry of its own (never prom-client's global one, so
 * two servers in one process, as in tests, do not share counters): HTTP requests by route pattern
 * and status with their latency, job transitions and latencies from the event bus, queue depth and
 * workers read from `app.stats()` at scrape time, and Node's default process metrics.
 *
 * Other modules add their own metrics by registering on `metrics.registry`
 * (`new Gauge({ name: 'mailroom_…', registers: [metrics.registry], collect() {…} })`): the server
 * options accept a `metrics` object for that (see createServer), and main.ts can create it first.
 */
import { performance } from 'node:perf_hooks';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Subscription } from '../app/event-bus.js';
import type { Mailroom, Stats } from '../app/mailroom-api.js';
import type { Logger } from '../logger.js';
import { msOfIso } from '../schemas/common.js';
import type { MailroomEvent } from '../schemas/events.js';
import { HttpMetrics } from './http-metrics.js';

export interface MetricsOptions {
  /** Node's process metrics (event-loop lag, heap, GC, CPU); on by default. */
  defaultMetrics?: boolean;
}

// Request latency of an in-memory API is sub-millisecond; a durable write is a Redis round trip or two.
const HTTP_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
// Jobs run from milliseconds (echo) to minutes (image generation).
const JOB_BUCKETS = [0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600];
/** Bounds the memory spent remembering when unfinished jobs were submitted or started. */
const MAX_TRACKED = 200_000;

export class ServerMetrics {
  readonly registry = new Registry();

  private readonly jobEvents = new Counter({
    name: 'mailroom_job_events_total',
    help: 'Job transitions (job_submitted, job_started, job_completed, …) by job type and event',
    labelNames: ['type', 'event'] as const,
    registers: [this.registry],
  });
  private readonly workflowEvents = new Counter({
    name: 'mailroom_workflow_events_total',
    help: 'Workflow transitions by event',
    labelNames: ['event'] as const,
    registers: [this.registry],
  });
  private readonly jobLatency = new Histogram({
    name: 'mailroom_job_latency_seconds',
    help: 'Time from submit to the final outcome (completed or failed), by job type and outcome',
    labelNames: ['type', 'outcome'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });
  private readonly jobRun = new Histogram({
    name: 'mailroom_job_run_seconds',
    help: 'Run time of one attempt (started to completed, failed or retrying), by job type and outcome',
    labelNames: ['type', 'outcome'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });

  private readonly http = new HttpMetrics(this.registry, HTTP_BUCKETS);
  private readonly submittedAt = new Map<string, number>();
  private readonly startedAt = new Map<string, number>();
  private subscription: Subscription | undefined;
  private closed = false;

  constructor(options: MetricsOptions = {}) {
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
  }

  /** One answered HTTP request; `startedAt` is its `performance.now()` on arrival. */
  readonly observeHttp = (method: string, route: string, status: number, startedAt: number): void => {
    this.http.record(method, route, status, (performance.now() - startedAt) / 1000);
  };

  /** A request counted without a latency (an event stream: its duration is the client's choice). */
  countHttp(method: string, route: string, status: number): void {
    this.http.record(method, route, status, -1);
  }

  /**
   * Feeds job and workflow metrics from the app's event bus and reads queue depth, running jobs
   * and workers from `app.stats()` whenever Prometheus scrapes.
   */
  async attach(app: Mailroom, logger?: Logger): Promise<void> {
    const subscription = await app.subscribe(['*'], undefined, (delivery) => {
      if (delivery.kind === 'event') this.record(delivery.event);
    });
    if (this.closed) subscription.unsubscribe();
    else this.subscription = subscription;
    this.addStatsGauges(app, logger);
  }

  /** Stops listening to the bus (the registry itself holds nothing that keeps the process alive). */
  close(): void {
    this.closed = true;
    this.subscription?.unsubscribe();
    this.subscription = undefined;
  }

  /** The exposition text and its content type. */
  async scrape(): Promise<{ payload: string; type: string }> {
    return { payload: await this.registry.metrics(), type: this.registry.contentType };
  }

  private record(event: MailroomEvent): void {
    if (!('job_type' in event)) {
      if ('workflow_name' in event) this.workflowEvents.inc({ event: event.type });
      return;
    }
    const type = event.job_type;
    this.jobEvents.inc({ type, event: event.type });
    const at = msOfIso(event.at);
    switch (event.type) {
      case 'job_submitted':
        remember(this.submittedAt, event.job_id, at);
        return;
      case 'job_started':
        remember(this.startedAt, event.job_id, at);
        return;
      case 'job_retrying':
        this.endAttempt(event.job_id, type, 'retrying', at);
        return;
      case 'job_completed':
      case 'job_failed': {
        const outcome = event.type === 'job_completed' ? 'completed' : 'failed';
        this.endAttempt(event.job_id, type, outcome, at);
        const submitted = this.submittedAt.get(event.job_id);
        if (submitted !== undefined) {
          this.submittedAt.delete(event.job_id);
          this.jobLatency.observe({ type, outcome }, Math.max(0, at - submitted) / 1000);
        }
        return;
      }
      case 'job_cancelled':
        this.submittedAt.delete(event.job_id);
        this.startedAt.delete(event.job_id);
        return;
      default:
        return;
    }
  }

  private endAttempt(jobId: string, type: string, outcome: string, at: number): void {
    const started = this.startedAt.get(jobId);
    if (started === undefined) return;
    this.startedAt.delete(jobId);
    this.jobRun.observe({ type, outcome }, Math.max(0, at - started) / 1000);
  }

  private addStatsGauges(app: Mailroom, logger?: Logger): void {
    // prom-client collects every metric concurrently, so the gauges share one stats read per scrape.
    let inFlight: Promise<Stats | null> | null = null;
    const stats = (): Promise<Stats | null> => {
      inFlight ??= app.stats().then(
        (value) => value,
        (error: unknown) => {
          logger?.warn({ err: error }, 'metrics: stats unavailable for this scrape');
          return null;
        },
      );
      const current = inFlight;
      void current.finally(() => {
        if (inFlight === current) inFlight = null;
      });
      return current;
    };
    const perType = (
      name: string,
      help: string,
      pick: (s: Stats) => Record<string, number>,
      label: 'type' | 'status' = 'type',
    ) =>
      new Gauge({
        name,
        help,
        labelNames: [label],
        registers: [this.registry],
        async collect() {
          const s = await stats();
          if (!s) return;
          this.reset();
          // Every configured type appears, at 0 when idle, so rate() and absent() behave.
          const keys = label === 'type' ? Object.keys(s.jobs.by_type) : [];
          const values = pick(s);
          for (const key of new Set([...keys, ...Object.keys(values)])) {
            this.set({ [label]: key }, values[key] ?? 0);
          }
        },
      });
    const total = (name: string, help: string, pick: (s: Stats) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        async collect() {
          const s = await stats();
          if (s) this.set(pick(s));
        },
      });
    perType(
      'mailroom_queue_depth',
      'Jobs pending (ready, queued for an executor), by job type',
      (s) => s.queue.queued,
    );
    perType(
      'mailroom_jobs_running',
      'Jobs running (leased to an executor), by job type',
      (s) => s.queue.running,
    );
    total('mailroom_queue_pending', 'Jobs pending in all queues', (s) => sum(s.queue.queued));
    total('mailroom_queue_running', 'Jobs running on all executors', (s) => sum(s.queue.running));
    new Gauge({
      name: 'mailroom_workers_connected',
      help: 'Remote workers connected to this server',
      registers: [this.registry],
      async collect() {
        // The dispatcher also counts in-process executors as workers: ask for the remote ones.
        const workers = await app.listWorkers().catch(() => null);
        if (workers) this.set(workers.length);
      },
    });
    perType(
      'mailroom_jobs',
      'Jobs the store keeps, by status (terminal ones until retention removes them)',
      (s) => s.jobs.by_status,
      'status',
    );
    perType(
      'mailroom_workflows',
      'Workflow runs the store keeps, by status',
      (s) => s.workflows.by_status,
      'status',
    );
  }
}

function remember(map: Map<string, number>, id: string, at: number): void {
  if (map.size >= MAX_TRACKED && !map.has(id)) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
  map.set(id, at);
}

function sum(values: Record<string, number>): number {
  let total = 0;
  for (const key in values) total += values[key] ?? 0;
  return total;
}

/** What the payload pool and the thread executors report (PayloadPool.stats, ThreadHosts.stats). */
export interface OffloadSources {
  pool: () => {
    queue_depth: number;
    utilization: number;
    in_flight: number;
    inline: number;
    pooled: number;
    overloaded: number;
    failed: number;
    task_latency: { p50_ms: number; p99_ms: number };
  };
  threads: () => Array<{
    type: string;
    threads: number;
    busy: number;
    queued: number;
    completed: number;
    failed: number;
    aborted: number;
    restarts: number;
    task_latency: { p50_ms: number; p99_ms: number };
  }>;
}

/**
 * Gauges for the payload pool and the thread executors, read at scrape time. Running totals are
 * gauges too (they are read, not counted here); latency quantiles cover the last 1,024 tasks.
 */
export function registerOffloadMetrics(registry: Registry, sources: OffloadSources): void {
  const gauge = (name: string, help: string, labelNames: string[], collect: (g: Gauge) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        collect(this);
      },
    });
  gauge('mailroom_pool_queue_depth', 'Payload pool tasks waiting for a thread', [], (g) =>
    g.set(sources.pool().queue_depth),
  );
  gauge('mailroom_pool_utilization', 'Share of pool thread time spent on tasks (0-1)', [], (g) =>
    g.set(sources.pool().utilization),
  );
  gauge('mailroom_pool_in_flight', 'Payload pool tasks queued or running', [], (g) =>
    g.set(sources.pool().in_flight),
  );
  gauge(
    'mailroom_pool_payloads',
    'Payloads prepared, by where (inline or pool), since start',
    ['where'],
    (g) => {
      const s = sources.pool();
      g.set({ where: 'inline' }, s.inline);
      g.set({ where: 'pool' }, s.pooled);
    },
  );
  gauge(
    'mailroom_pool_refused',
    'Pool tasks refused (overloaded) or failed, since start',
    ['reason'],
    (g) => {
      const s = sources.pool();
      g.set({ reason: 'overloaded' }, s.overloaded);
      g.set({ reason: 'failed' }, s.failed);
    },
  );
  gauge('mailroom_pool_task_latency_seconds', 'Pool task latency, queue wait included', ['quantile'], (g) => {
    const { p50_ms, p99_ms } = sources.pool().task_latency;
    g.set({ quantile: '0.5' }, p50_ms / 1_000);
    g.set({ quantile: '0.99' }, p99_ms / 1_000);
  });
  const perType = (
    name: string,
    help: string,
    pick: (s: ReturnType<OffloadSources['threads']>[number]) => number,
  ) =>
    gauge(name, help, ['type'], (g) => {
      for (const s of sources.threads()) g.set({ type: s.type }, pick(s));
    });
  perType('mailroom_thread_threads', 'Live threads of a thread: job type', (s) => s.threads);
  perType('mailroom_thread_busy', 'Threads running a job', (s) => s.busy);
  perType('mailroom_thread_queued', 'Jobs waiting for a thread', (s) => s.queued);
  perType(
    'mailroom_thread_restarts',
    'Threads replaced after a timeout, cancel, exit or failed setup, since start',
    (s) => s.restarts,
  );
  perType(
    'mailroom_thread_jobs_failed',
    'Thread jobs failed (threw, exited, setup failed), since start',
    (s) => s.failed,
  );
  perType(
    'mailroom_thread_jobs_aborted',
    'Thread jobs aborted by timeout or cancel, since start',
    (s) => s.aborted,
  );
  gauge('mailroom_thread_task_latency_seconds', 'Thread job run time', ['type', 'quantile'], (g) => {
    for (const s of sources.threads()) {
      g.set({ type: s.type, quantile: '0.5' }, s.task_latency.p50_ms / 1_000);
      g.set({ type: s.type, quantile: '0.99' }, s.task_latency.p99_ms / 1_000);
    }
  });
}
