/**
 * Turns a submitted job (or a workflow step) into a fully normalized NewJob: the type's defaults
 * for everything the submitter left out, resource needs computed from the input, and the input
 * checked against the type's JSON Schema. One place, so jobs and steps are built alike.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import type { ErrorDetail } from '../errors.js';
import { EncodedInput } from '../runtime/pool/encoded-input.js';
import { binaryPaths, decodeBinaryFields, inputProblems } from '../runtime/pool/input-schema.js';
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

/**
 * Only GPU types read the input to size their need; an input kept as JSON text
 * (encoded-input.ts) is decoded for them alone, and not kept.
 */
function inputForNeeds(type: JobTypeConfig, input: unknown, requirements: Requirements | undefined): unknown {
  if (!(input instanceof EncodedInput)) return input;
  const base = requirements?.gpu_memory_gb ?? type.requirements?.gpu_memory_gb ?? 0;
  return base > 0 ? input.value() : null;
}

export class JobFactory {
  private readonly types: ReadonlyMap<string, JobTypeConfig>;
  private readonly validators = new Map<string, ValidateFunction>();
  /** Fields each type's schema declares binary (`contentEncoding: base64`). */
  private readonly binary = new Map<string, string[][]>();

  constructor(config: Pick<FileConfig, 'job_types'>) {
    this.types = new Map(config.job_types.map((type) => [type.name, type]));
    const ajv = new Ajv({ allErrors: true, strict: false });
    for (const type of config.job_types) {
      if (type.input_schema) this.validators.set(type.name, ajv.compile(type.input_schema));
      const binary = type.input_schema ? binaryPaths(type.input_schema) : [];
      if (binary.length > 0) this.binary.set(type.name, binary);
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
    return validate ? inputProblems(validate, input, pathPrefix) : [];
  }

  /**
   * The input as a job keeps it: checked, then declared-binary base64 fields turned into bytes.
   * The payload pool runs the same steps (runtime/pool/prepare.ts) for large payloads.
   */
  prepareInput(
    type: string,
    input: unknown,
    pathPrefix = 'input',
  ): { input: unknown; problems: ErrorDetail[] } {
    const problems = this.validateInput(type, input, pathPrefix);
    const binary = this.binary.get(type);
    if (problems.length > 0 || !binary) return { input, problems };
    const decoded = decodeBinaryFields(input, binary, pathPrefix);
    return { input: decoded.value, problems: decoded.problems };
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
      needs: neededResources(type, inputForNeeds(type, args.input, requirements), requirements),
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
