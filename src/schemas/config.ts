/**
 * Configuration schemas: server options (env vars and CLI flags) and the JSON config file.
 * Defaults live here and nowhere else; `src/config.ts` only gathers raw values and parses them.
 */
import { z } from 'zod';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LogLevel = z.enum(LOG_LEVELS);
export type LogLevel = z.infer<typeof LogLevel>;

/** Comma-separated on the command line and in env vars; blanks are dropped so `a,,b,` means `[a, b]`. */
const commaList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) =>
    (typeof value === 'string' ? value.split(',') : value).map((s) => s.trim()).filter((s) => s.length > 0),
  );

export const ServerOptions = z.strictObject({
  port: z.coerce.number().int().min(0).max(65_535).default(8080),
  host: z.string().min(1).default('127.0.0.1'),
  redisUrl: z
    .string()
    .regex(/^rediss?:\/\/\S+$/, 'must start with redis:// or rediss://')
    .optional(),
  redisPrefix: z.string().min(1).default('mailroom:'),
  apiKeys: commaList.default([]),
  webhookSecret: z.string().min(1).optional(),
  configPath: z.string().min(1).optional(),
  logLevel: LogLevel.default('info'),
});
export type ServerOptions = z.infer<typeof ServerOptions>;
export type ServerOptionsInput = z.input<typeof ServerOptions>;

export const Backoff = z
  .strictObject({
    type: z.enum(['exponential', 'fixed']).default('exponential'),
    delay_ms: z.number().int().min(0).default(1_000),
    max_delay_ms: z.number().int().min(0).default(60_000),
  })
  .refine((b) => b.max_delay_ms >= b.delay_ms, {
    message: 'max_delay_ms must be at least delay_ms',
    path: ['max_delay_ms'],
  });
export type Backoff = z.infer<typeof Backoff>;

export const Requirements = z.strictObject({
  gpu_memory_gb: z.number().min(0).optional(),
  capabilities: z.array(z.string().min(1)).optional(),
});
export type Requirements = z.infer<typeof Requirements>;

/** `builtin:<name>`, `thread:<module path>`, `http:<agent name>` or `remote` (WebSocket workers). */
export const Executor = z
  .string()
  .regex(
    /^(builtin:.+|thread:.+|http:.+|remote)$/,
    'must be builtin:<name>, thread:<module>, http:<agent> or remote',
  );
export type Executor = z.infer<typeof Executor>;

export const JobTypeConfig = z.strictObject({
  // Names end up in index tags and URLs, so keep them to a safe alphabet.
  name: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'letters, digits, ".", "_", ":" and "-" only'),
  /** A JSON Schema the job's `input` must satisfy. */
  input_schema: z.record(z.string(), z.unknown()).optional(),
  priority: z.number().int().min(0).max(100).default(50),
  timeout_ms: z.number().int().positive().optional(),
  max_attempts: z.number().int().min(1).default(3),
  backoff: Backoff.optional(),
  requirements: Requirements.optional(),
  /** Cluster-wide limit of running jobs of this type. */
  concurrency: z.number().int().positive().optional(),
  /** Starts per second. */
  rate: z.number().positive().optional(),
  /** `thread:` types: how many long-lived worker threads run this type's jobs (its running limit here). */
  threads: z.number().int().min(1).max(64).optional(),
  executor: Executor,
});
export type JobTypeConfig = z.infer<typeof JobTypeConfig>;

/** Per API key (applies only when API_KEYS is set): a token bucket of `burst`, refilled at `requests_per_second`. */
export const RateLimitConfig = z.strictObject({
  enabled: z.boolean().default(true),
  requests_per_second: z.number().positive().default(1_000),
  burst: z.number().int().positive().default(2_000),
});
export type RateLimitConfig = z.infer<typeof RateLimitConfig>;

/** WebSocket limits shared by `/ws` and `/ws/worker`. */
export const WebSocketConfig = z.strictObject({
  /** Bytes queued for one socket before it counts as a slow consumer and is closed with 1008. */
  max_buffered_bytes: z
    .number()
    .int()
    .positive()
    .default(4 * 1024 * 1024),
  /** Workers are told this interval; one silent for two of them loses its leases. */
  heartbeat_ms: z.number().int().min(100).max(600_000).default(10_000),
});
export type WebSocketConfig = z.infer<typeof WebSocketConfig>;

/**
 * The payload pool (piscina): large payloads are decoded, checked and hashed off the event loop.
 * `threshold_bytes` is measured (docs/benchmarks.md, "Payload pool"): below it the thread hop
 * costs more event-loop time than it saves.
 */
export const PoolConfig = z.strictObject({
  enabled: z.boolean().default(true),
  threshold_bytes: z
    .number()
    .int()
    .min(0)
    .default(64 * 1024),
  /** Tasks waiting for a thread; past it submits are refused with OVERLOADED (503). */
  max_queue: z.number().int().min(1).max(100_000).default(64),
  /** Absent: one less than the machine's cores, at least one. */
  threads: z.number().int().min(1).max(64).optional(),
  /** Snapshot forms larger than this are compressed. */
  compress_above_bytes: z
    .number()
    .int()
    .min(0)
    .default(64 * 1024),
  compression: z.enum(['zlib', 'brotli']).default('zlib'),
});
export type PoolConfig = z.infer<typeof PoolConfig>;

export const FileConfig = z.strictObject({
  // Lets editors validate the file against a published schema without tripping strict parsing.
  $schema: z.string().optional(),
  max_body_bytes: z
    .number()
    .int()
    .positive()
    .default(8 * 1024 * 1024),
  retention_ms: z
    .number()
    .int()
    .positive()
    .default(24 * 60 * 60 * 1000),
  event_log_max_len: z.number().int().positive().default(100_000),
  // prefault: an absent or partial `rate_limit` still gets every default from RateLimitConfig.
  rate_limit: RateLimitConfig.prefault({}),
  pool: PoolConfig.prefault({}),
  websocket: WebSocketConfig.prefault({}),
  job_types: z
    .array(JobTypeConfig)
    .default([])
    .superRefine((types, ctx) => {
      const seen = new Set<string>();
      types.forEach((type, index) => {
        if (seen.has(type.name)) {
          ctx.addIssue({
            code: 'custom',
            message: `duplicate job type name "${type.name}"`,
            path: [index, 'name'],
          });
        }
        seen.add(type.name);
      });
    }),
});
export type FileConfig = z.infer<typeof FileConfig>;

export const MailroomConfig = z.object({
  server: ServerOptions,
  file: FileConfig,
});
export type MailroomConfig = z.infer<typeof MailroomConfig>;
