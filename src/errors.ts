/**
 * The one registry of error codes. Codes are stable and never reused; each carries the HTTP
 * status it maps to and whether retrying the same request can succeed. Every code is documented
 * in docs/errors.md (a test keeps the two in step).
 */
export const ERROR_CODES = {
  INTERNAL: { status: 500, retryable: true, message: 'Internal error' },
  VALIDATION_FAILED: { status: 400, retryable: false, message: 'Validation failed' },
  INVALID_JSON: { status: 400, retryable: false, message: 'Malformed JSON body' },
  INVALID_MSGPACK: { status: 400, retryable: false, message: 'Malformed MessagePack body' },
  CONFIG_INVALID: { status: 500, retryable: false, message: 'Configuration is invalid' },
  NOT_FOUND: { status: 404, retryable: false, message: 'Not found' },
  METHOD_NOT_ALLOWED: { status: 405, retryable: false, message: 'Method not allowed' },
  PAYLOAD_TOO_LARGE: { status: 413, retryable: false, message: 'Payload too large' },
  UNAUTHORIZED: { status: 401, retryable: false, message: 'Missing or invalid API key' },
  RATE_LIMITED: { status: 429, retryable: true, message: 'Rate limit exceeded' },
  STORE_UNAVAILABLE: { status: 503, retryable: true, message: 'The store is unreachable' },
  ASK_TIMEOUT: { status: 504, retryable: true, message: 'The actor did not answer in time' },
  ACTOR_RESTARTED: {
    status: 503,
    retryable: true,
    message: 'The actor restarted before its change was durable',
  },
  ACTOR_STOPPED: { status: 503, retryable: true, message: 'The actor was stopped' },
  ACTOR_FAILED: { status: 500, retryable: false, message: 'The actor failed to handle the message' },
  UNKNOWN_ACTOR_KIND: {
    status: 500,
    retryable: false,
    message: 'No actor logic is registered for this kind',
  },
  SYSTEM_STOPPED: { status: 503, retryable: true, message: 'The actor system is shutting down' },
  EXECUTOR_UNAVAILABLE: {
    status: 501,
    retryable: false,
    message: 'This server has no executor for the job type',
  },
  INVALID_STATE: {
    status: 409,
    retryable: false,
    message: 'The resource is not in a state that allows this',
  },
  LEASE_STALE: { status: 409, retryable: false, message: 'The lease is not the current one for this job' },
  OVERLOADED: { status: 503, retryable: true, message: 'The server is overloaded; retry later' },
  INVALID_FRAME: { status: 400, retryable: false, message: 'Malformed or unknown WebSocket frame' },
  SLOW_CONSUMER: {
    status: 429,
    retryable: true,
    message: 'The socket fell too far behind its events and was closed',
  },
  // The compatibility routes (SPEC §3) answer with the codes of the service they replace.
  JOB_SUBMISSION_FAILED: { status: 400, retryable: false, message: 'Job validation failed' },
  JOB_NOT_FOUND: { status: 404, retryable: false, message: 'Job not found' },
  WORKFLOW_CREATION_FAILED: { status: 400, retryable: false, message: 'Workflow validation failed' },
  WORKFLOW_NOT_FOUND: { status: 404, retryable: false, message: 'Workflow not found' },
  INVALID_TIMEFRAME: { status: 400, retryable: false, message: 'Invalid timeframe' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * Codes the runtime itself writes into a failed job's or step's `error` (executors and remote
 * workers report their own codes too). Documented in docs/errors.md beside the API codes.
 */
export const JOB_FAILURE_CODES = {
  TIMEOUT: { retryable: true },
  WORKER_LOST: { retryable: true },
  HANDLER_THREW: { retryable: true },
  NO_HANDLER: { retryable: false },
  JOB_FAILED: { retryable: true },
  TEMPLATE_UNRESOLVED: { retryable: false },
  VALIDATION_FAILED: { retryable: false },
  STEP_CANCELLED: { retryable: true },
  OVERLOADED: { retryable: true },
  THREAD_EXITED: { retryable: true },
  THREAD_SETUP_FAILED: { retryable: true },
} as const;

export type JobFailureCode = keyof typeof JOB_FAILURE_CODES;

export interface ErrorDetail {
  path: string;
  message: string;
}

/** The wire and cross-thread form of an error. */
export interface ErrorRecord {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  details?: ErrorDetail[];
  stack?: string;
}

export class MailroomError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  readonly details: ErrorDetail[] | undefined;

  constructor(code: ErrorCode, message?: string, options?: { details?: ErrorDetail[]; cause?: unknown }) {
    const entry = ERROR_CODES[code];
    super(message ?? entry.message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MailroomError';
    this.code = code;
    this.status = entry.status;
    this.retryable = entry.retryable;
    this.details = options?.details;
  }

  toRecord(includeStack = false): ErrorRecord {
    const record: ErrorRecord = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.details) record.details = this.details;
    if (includeStack && this.stack) record.stack = this.stack;
    return record;
  }
}

export function isMailroomError(value: unknown): value is MailroomError {
  return value instanceof MailroomError;
}

/** Any thrown value as a registry error; unknown failures become INTERNAL with the original as cause. */
export function toMailroomError(value: unknown): MailroomError {
  if (value instanceof MailroomError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new MailroomError('INTERNAL', message, { cause: value });
}

/** Rebuilds an error that crossed a thread or process boundary as a record. */
export function fromErrorRecord(record: ErrorRecord): MailroomError {
  const code = record.code in ERROR_CODES ? record.code : 'INTERNAL';
  const error = new MailroomError(
    code,
    record.message,
    record.details ? { details: record.details } : undefined,
  );
  if (record.stack) error.stack = record.stack;
  return error;
}
