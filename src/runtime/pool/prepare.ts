/**
 * Payload preparation: the CPU-heavy part of accepting a large submit, written as one pure
 * function so it runs the same on a pool thread and inline. Decode (JSON or MessagePack, the
 * edge's own decoder and limits), check a job's input against its type's JSON Schema, turn
 * declared-binary base64 fields into bytes, and hash the canonical content. Failures come back as
 * error records, never thrown across the thread boundary, so the client gets the same 400 either way.
 */
import { brotliCompressSync, deflateSync, constants as zlibConstants } from 'node:zlib';
import { Ajv, type ValidateFunction } from 'ajv';
import { Packr } from 'msgpackr';
import { type ErrorDetail, type ErrorRecord, toMailroomError } from '../../errors.js';
import { decodeBody, isMsgpack } from '../../transport/http/body.js';
import { contentDigest } from './content-digest.js';
import { binaryPaths, decodeBinaryFields, inputProblems } from './input-schema.js';
import { topLevelValueRange } from './json-scan.js';

/** A job type's input schema, as the pool's threads receive it (plain data, cloneable). */
export interface TypeSchema {
  name: string;
  input_schema?: Record<string, unknown> | undefined;
}

export interface PrepareTask {
  bytes: Uint8Array;
  contentType: string | undefined;
  /** The body is a job submit (`{type, input, …}`): check its input and hash its content. */
  job: boolean;
  /**
   * Keep a valid job input as its JSON text (`PreparedJob.inputJson`) and leave it out of the
   * returned body, so the decoded value never crosses back to the event loop. JSON bodies of types
   * without binary fields only: elsewhere the text would not round-trip to the same value.
   */
  encodeInput?: boolean | undefined;
  /** Also encode the input's snapshot form (MessagePack, compressed above `compressAboveBytes`). */
  snapshot?: { compressAboveBytes: number; compression: Compression } | undefined;
}

export type Compression = 'zlib' | 'brotli';

/** What preparation found out about a job submit; the submit path uses it instead of redoing it. */
export interface PreparedJob {
  type: string;
  /** The input's problems against its type's schema, with the inline path's exact paths and messages. */
  problems: ErrorDetail[];
  /**
   * SHA-256 of the canonical `[type, input]` (see content-digest.ts), computed only when the
   * submit asks for `idempotency_key: "content"`: on a 2 MiB input it costs more than the decode.
   */
  digest: string | null;
  /**
   * The input's JSON text (UTF-8, on a SharedArrayBuffer) when `encodeInput` was asked and applied;
   * the body's `input` is then null and this is the input (see encoded-input.ts).
   */
  inputJson: Uint8Array | null;
}

export interface Snapshot {
  encoding: 'msgpack' | 'msgpack+zlib' | 'msgpack+br';
  bytes: Uint8Array;
}

export type PrepareResult =
  | { ok: true; body: unknown; job: PreparedJob | null; snapshot: Snapshot | null }
  | { ok: false; error: ErrorRecord };

interface CompiledType {
  validate: ValidateFunction | null;
  binary: string[][];
}

/** Compiled schemas, once per thread. */
export class Preparer {
  private readonly types = new Map<string, CompiledType>();

  constructor(types: readonly TypeSchema[]) {
    const ajv = new Ajv({ allErrors: true, strict: false });
    for (const type of types) {
      this.types.set(type.name, {
        validate: type.input_schema ? ajv.compile(type.input_schema) : null,
        binary: type.input_schema ? binaryPaths(type.input_schema) : [],
      });
    }
  }

  /**
   * `transfer`, when given, collects the ArrayBuffers in the result that may move to another
   * thread without a copy: buffers this preparation allocated and owns whole (never pooled ones).
   */
  prepare(task: PrepareTask, transfer?: ArrayBuffer[]): PrepareResult {
    let body: unknown;
    try {
      body = decodeBody(task.bytes, task.contentType);
    } catch (error) {
      return { ok: false, error: toMailroomError(error).toRecord() };
    }
    if (!task.job || body === null || typeof body !== 'object' || Array.isArray(body)) {
      return { ok: true, body, job: null, snapshot: null };
    }
    const spec = body as { type?: unknown; input?: unknown; idempotency_key?: unknown };
    const type = typeof spec.type === 'string' ? this.types.get(spec.type) : undefined;
    // An unknown type (or a malformed envelope) is for the submit path to report, as inline.
    if (!type) return { ok: true, body, job: null, snapshot: null };
    let input = spec.input;
    let problems = type.validate ? inputProblems(type.validate, input, 'input') : [];
    if (problems.length === 0 && type.binary.length > 0) {
      const decoded = decodeBinaryFields(input, type.binary, 'input');
      problems = decoded.problems;
      input = decoded.value;
      if (input !== spec.input) body = { ...spec, input };
      if (transfer) for (const path of type.binary) collectOwned(valueAt(input, path), transfer);
    }
    const wantsDigest = spec.idempotency_key === 'content' && problems.length === 0;
    const encode =
      task.encodeInput === true &&
      problems.length === 0 &&
      type.binary.length === 0 &&
      input !== undefined &&
      !isMsgpack(task.contentType);
    const job: PreparedJob = {
      type: spec.type as string,
      problems,
      digest: wantsDigest ? contentDigest(spec.type as string, input) : null,
      inputJson: encode ? inputText(task.bytes, input) : null,
    };
    // Replaces an existing key (no new one), so the copy stays a fast object.
    if (encode) body = { ...spec, input: null };
    const snapshot = task.snapshot && problems.length === 0 ? encodeSnapshot(input, task.snapshot) : null;
    if (snapshot && transfer) collectOwned(snapshot.bytes, transfer);
    return { ok: true, body, job, snapshot };
  }
}

/**
 * The input's JSON text on shared memory, so the event loop gets it, and hands it back to a pool
 * thread, without a copy: its slice of the body as sent (the body is usually shared memory
 * already, see exchange.ts), or the value re-serialized when the slice cannot be found safely.
 */
function inputText(body: Uint8Array, input: unknown): Uint8Array {
  const range = topLevelValueRange(body, 'input');
  if (range) {
    const slice = body.subarray(range.start, range.end);
    return slice.buffer instanceof SharedArrayBuffer ? slice : toShared(slice);
  }
  return toShared(Buffer.from(JSON.stringify(input), 'utf8'));
}

function toShared(bytes: Uint8Array): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(bytes.byteLength));
  shared.set(bytes);
  return shared;
}

// Standard MessagePack; `pack` returns a view into msgpackr's reused buffer, so it is copied
// below before anything keeps it (or transfers it to another thread).
const packr = new Packr({ useRecords: false });

export function encodeSnapshot(
  value: unknown,
  options: { compressAboveBytes: number; compression: Compression },
): Snapshot {
  const packed = Uint8Array.prototype.slice.call(packr.pack(value === undefined ? null : value));
  if (packed.byteLength <= options.compressAboveBytes) return { encoding: 'msgpack', bytes: packed };
  if (options.compression === 'brotli') {
    // Quality 4: most of brotli's gain at a fraction of the default (11) cost.
    const bytes = brotliCompressSync(packed, {
      params: {
        [zlibConstants.BROTLI_PARAM_QUALITY]: 4,
        [zlibConstants.BROTLI_PARAM_SIZE_HINT]: packed.byteLength,
      },
    });
    return { encoding: 'msgpack+br', bytes };
  }
  return { encoding: 'msgpack+zlib', bytes: deflateSync(packed, { level: 1 }) };
}

function valueAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * Only a view that spans its whole, non-shared ArrayBuffer may be transferred: a small Buffer
 * sits in Node's shared 8 KiB slab, and msgpackr's output in its reused buffer; moving either
 * would take memory other values still use.
 */
function collectOwned(value: unknown, transfer: ArrayBuffer[]): void {
  if (!ArrayBuffer.isView(value)) return;
  const buffer = value.buffer;
  if (!(buffer instanceof ArrayBuffer)) return;
  if (value.byteOffset !== 0 || value.byteLength !== buffer.byteLength) return;
  if (!transfer.includes(buffer)) transfer.push(buffer);
}
