/**
 * A small typed client for the v1 HTTP API (SPEC §3), used by the CLI, the bench and tests.
 * It speaks JSON over Node's global fetch (no dependency), sends the API key when given, and turns
 * every error reply into a MailroomApiError carrying the server's `{code, message, details}`.
 * A server that cannot be reached at all surfaces as MailroomConnectionError instead, so callers
 * can tell "the server said no" from "there was no server".
 */
import type { ErrorDetail } from '../errors.js';
import type { JobSpec, JobStatus, JobView } from '../schemas/job.js';
import type { WorkflowSpec, WorkflowStatus, WorkflowView } from '../schemas/workflow.js';

export interface HttpClientOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:8080` (a trailing slash is fine). */
  url: string;
  /** Sent as `x-api-key` when set. */
  apiKey?: string | undefined;
  /** Per-request timeout; default 30 s. */
  timeoutMs?: number;
  /** Extra headers on every request (e.g. `traceparent`). */
  headers?: Record<string, string>;
}

/** The server answered with an error: its stable code, message and per-field details. */
export class MailroomApiError extends Error {
  readonly status: number;
  /** A registry code (docs/errors.md); kept a string so a newer server's codes pass through. */
  readonly code: string;
  readonly details: ErrorDetail[] | undefined;
  readonly requestId: string | null;
  readonly retryAfterSeconds: number | null;

  constructor(
    status: number,
    body: { code: string; message: string; details?: ErrorDetail[] | undefined },
    requestId: string | null,
    retryAfterSeconds: number | null,
  ) {
    super(body.message);
    this.name = 'MailroomApiError';
    this.status = status;
    this.code = body.code;
    this.details = body.details;
    this.requestId = requestId;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** No answer: connection refused, reset, DNS failure or timeout. */
export class MailroomConnectionError extends Error {
  readonly url: string;
  constructor(url: string, cause: unknown) {
    const reason = describeCause(cause);
    super(`cannot reach ${url}: ${reason}`, { cause });
    this.name = 'MailroomConnectionError';
    this.url = url;
  }
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface ListJobsQuery {
  status?: JobStatus;
  type?: string;
  workflow_id?: string;
  limit?: number;
  cursor?: string;
}

export interface ListWorkflowsQuery {
  status?: WorkflowStatus;
  name?: string;
  limit?: number;
  cursor?: string;
}

/** `GET /api/v1/stats` (the shape of the in-process API's Stats). */
export interface StatsView {
  jobs: { by_status: Record<string, number>; by_type: Record<string, number> };
  workflows: { by_status: Record<string, number> };
  queue: { queued: Record<string, number>; running: Record<string, number>; workers: number };
  last_minute: {
    window_seconds: number;
    completed: number;
    failed: number;
    throughput_per_second: number;
    latency_ms: { p50: number; p90: number; p99: number; p999: number; max: number; count: number };
  };
}

/** What a submit answered: the resource, and whether it was created (202) or an idempotent repeat (200). */
export interface Submitted<T> {
  value: T;
  created: boolean;
}

/** A job spec as a submitter writes it: defaults (like `on_failure`) may be left out. */
export type JobInput = JobSpec;
export type WorkflowInput = Omit<WorkflowSpec, 'on_failure'> & { on_failure?: WorkflowSpec['on_failure'] };

export class HttpClient {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(options: HttpClientOptions) {
    this.base = options.url.replace(/\/+$/, '');
    this.headers = { accept: 'application/json', ...options.headers };
    if (options.apiKey) this.headers['x-api-key'] = options.apiKey;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  get url(): string {
    return this.base;
  }

  async submitJob(job: JobInput): Promise<JobView> {
    return (await this.submitJobWithStatus(job)).value;
  }

  /** Like submitJob, but tells a new job (202) from an idempotency-key match (200). */
  async submitJobWithStatus(job: JobInput): Promise<Submitted<JobView>> {
    const { body, status } = await this.request<JobView>('POST', '/api/v1/jobs', job);
    return { value: body, created: status === 202 };
  }

  async submitBatch(jobs: JobInput[]): Promise<JobView[]> {
    return (await this.request<{ items: JobView[] }>('POST', '/api/v1/jobs/batch', { jobs })).body.items;
  }

  async getJob(id: string): Promise<JobView> {
    return (await this.request<JobView>('GET', `/api/v1/jobs/${encodeURIComponent(id)}`)).body;
  }

  async listJobs(query: ListJobsQuery = {}): Promise<Page<JobView>> {
    return (await this.request<Page<JobView>>('GET', `/api/v1/jobs${queryString(query)}`)).body;
  }

  async cancelJob(id: string, reason?: string): Promise<JobView> {
    const path = `/api/v1/jobs/${encodeURIComponent(id)}/cancel`;
    return (await this.request<JobView>('POST', path, reason === undefined ? {} : { reason })).body;
  }

  async retryJob(id: string): Promise<JobView> {
    return (await this.request<JobView>('POST', `/api/v1/jobs/${encodeURIComponent(id)}/retry`)).body;
  }

  async submitWorkflow(workflow: WorkflowInput): Promise<WorkflowView> {
    return (await this.submitWorkflowWithStatus(workflow)).value;
  }

  async submitWorkflowWithStatus(workflow: WorkflowInput): Promise<Submitted<WorkflowView>> {
    const { body, status } = await this.request<WorkflowView>('POST', '/api/v1/workflows', workflow);
    return { value: body, created: status === 202 };
  }

  async getWorkflow(id: string): Promise<WorkflowView> {
    return (await this.request<WorkflowView>('GET', `/api/v1/workflows/${encodeURIComponent(id)}`)).body;
  }

  async listWorkflows(query: ListWorkflowsQuery = {}): Promise<Page<WorkflowView>> {
    return (await this.request<Page<WorkflowView>>('GET', `/api/v1/workflows${queryString(query)}`)).body;
  }

  async cancelWorkflow(id: string, reason?: string): Promise<WorkflowView> {
    const path = `/api/v1/workflows/${encodeURIComponent(id)}/cancel`;
    return (await this.request<WorkflowView>('POST', path, reason === undefined ? {} : { reason })).body;
  }

  async retryWorkflow(id: string): Promise<WorkflowView> {
    const path = `/api/v1/workflows/${encodeURIComponent(id)}/retry`;
    return (await this.request<WorkflowView>('POST', path)).body;
  }

  async stats(): Promise<StatsView> {
    return (await this.request<StatsView>('GET', '/api/v1/stats')).body;
  }

  /** Liveness (`/health`), or readiness (`/health/ready`: the store answers) with `ready: true`. */
  async health(options: { ready?: boolean } = {}): Promise<{ status: string; store?: string }> {
    const path = options.ready ? '/health/ready' : '/health';
    return (await this.request<{ status: string; store?: string }>('GET', path)).body;
  }

  /** One request; any non-2xx becomes MailroomApiError, no answer becomes MailroomConnectionError. */
  async request<T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const url = `${this.base}${path}`;
    const headers = { ...this.headers };
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(this.timeoutMs) };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, init);
      text = await res.text();
    } catch (error) {
      throw new MailroomConnectionError(this.base, error);
    }
    const parsed = parseJson(text);
    if (res.ok) return { status: res.status, body: parsed as T };
    throw new MailroomApiError(
      res.status,
      errorBody(parsed, res.status, text),
      res.headers.get('x-request-id'),
      retryAfter(res.headers.get('retry-after')),
    );
  }
}

function queryString(query: object): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null) params.set(key, String(value));
  }
  const text = params.toString();
  return text.length > 0 ? `?${text}` : '';
}

function parseJson(text: string): unknown {
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The registry's `{error: {code, message, details}}`, or a stand-in when a proxy answered instead. */
function errorBody(
  parsed: unknown,
  status: number,
  text: string,
): { code: string; message: string; details?: ErrorDetail[] } {
  const error = (parsed as { error?: unknown } | undefined)?.error;
  if (error && typeof error === 'object') {
    const { code, message, details } = error as Record<string, unknown>;
    if (typeof code === 'string' && typeof message === 'string') {
      return Array.isArray(details)
        ? { code, message, details: details as ErrorDetail[] }
        : { code, message };
    }
  }
  return { code: `HTTP_${status}`, message: text.slice(0, 500) || `HTTP ${status}` };
}

function retryAfter(value: string | null): number | null {
  if (value === null) return null;
  const seconds = Number(value);
  return Number.isFinite(seconds) ? seconds : null;
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    if (cause.name === 'TimeoutError') return 'no answer in time';
    const inner = (cause as { cause?: { code?: string; message?: string } }).cause;
    if (inner?.code) return inner.code;
    return inner?.message ?? cause.message;
  }
  return String(cause);
}
