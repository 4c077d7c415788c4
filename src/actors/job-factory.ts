/**
 * Turns a submitted job (or a workflow step) into a fully normalized NewJob: the type's defaults
 * for everything the submitter left out, resource needs computed from the input, and the input
 * checked against the type's JSON Schema. One place, so jobs and steps are built alike.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { ErrorDetail } from '../errors.js';
import type { FileConfig, JobTypeConfig, Requirements } from '../schemas/config.js';
import type { JobOptions } from '../schemas/job.js';
import type { NewJob } from './job.js';
import { neededResources } from './requirements.js';

export interface BuildJob {
  id: string;
  type: string;
  options: JobOptions;
  input: unknown;
  /** Waiting for workflow dependencies: queued only when released. */
  waiting: boolean;
  idempotencyKey?: string | null;
  workflowId?: string | null;
  step?: number | null;
  traceId: string | null;
  now: number;
}

export class JobFactory {
  private readonly types: ReadonlyMap<string, JobTypeConfig>;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(config: Pick<FileConfig, 'job_types'>) {
    this.types = new Map(config.job_types.map((type) => [type.name, type]));
    const ajv = new Ajv({ allErrors: true, strict: false });
    for (const type of config.job_types) {
      if (type.input_schema) this.validators.set(type.name, ajv.compile(type.input_schema));
    }
  }

  typeNames(): string[] {
    return [...this.types.keys()];
  }

  isKnownType(type: string): boolean {
    return this.types.has(type);
  }

  typeConfig(type: string): JobTypeConfig | undefined {
    return this.types.get(type);
  }

  /** Problems with `input` for this type, with paths under `pathPrefix` (empty when valid). */
  validateInput(type: string, input: unknown, pathPrefix = 'input'): ErrorDetail[] {
    const validate = this.validators.get(type);
    if (!validate || validate(input === undefined ? {} : input)) return [];
    return (validate.errors ?? []).map((error) => {
      const pointer = error.instancePath.split('/').filter(Boolean).join('.');
      const missing =
        error.keyword === 'required'
          ? (error.params as { missingProperty?: string }).missingProperty
          : undefined;
      const path = [pathPrefix, pointer, missing].filter((part) => part).join('.');
      return { path, message: error.message ?? 'is invalid' };
    });
  }

  needsFor(type: string, input: unknown, requirements: Requirements | undefined) {
    const config = this.types.get(type);
    if (!config) throw new Error(`unknown job type ${type}`);
    return neededResources(config, input, requirements);
  }

  build(args: BuildJob): NewJob {
    const type = this.types.get(args.type);
    if (!type) throw new Error(`unknown job type ${args.type}`);
    const options = args.options;
    const requirements: Requirements | undefined = options.requirements;
    return {
      id: args.id,
      type: args.type,
      priority: options.priority ?? type.priority,
      input: args.input === undefined ? null : args.input,
      maxAttempts: options.max_attempts ?? type.max_attempts,
      timeoutMs: options.timeout_ms ?? type.timeout_ms ?? null,
      backoff: options.backoff ?? type.backoff ?? null,
      needs: neededResources(type, args.input, requirements),
      workflowId: args.workflowId ?? null,
      step: args.step ?? null,
      idempotencyKey: args.idempotencyKey ?? null,
      metadata: options.metadata ?? null,
      webhookUrl: options.webhook_url ?? null,
      traceId: args.traceId,
      createdAt: args.now,
      delayMs: options.delay_ms ?? 0,
      waiting: args.waiting,
    };
  }
}
