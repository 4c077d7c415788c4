/**
 * Request bodies: JSON or MessagePack in, decoded to plain values, with a nesting limit. Deeply
 * nested input is refused here because everything downstream that walks values recursively
 * (msgpack snapshots, JSON Schema checks, templates, JSON replies) would overflow its stack on it.
 */
import { Unpackr } from 'msgpackr';
import { MailroomError } from '../../errors.js';
import { stringEnd } from '../../runtime/pool/json-scan.js';
import type { PreparedBody } from '../../runtime/pool/payload-pool.js';
import type { ExchangeOptions } from './exchange.js';

/** Deeper than any sane job input; far below what recursive walkers can take. */
export const MAX_BODY_DEPTH = 128;

// Standard MessagePack only (no msgpackr records), maps as plain objects, 64-bit integers as
// numbers (a BigInt would break every JSON reply), and binary copied out of the request chunk.
const unpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  int64AsType: 'number',
  copyBuffers: true,
});

export function isMsgpack(contentType: string | undefined): boolean {
  if (!contentType) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return (
    type === 'application/msgpack' || type === 'application/x-msgpack' || type === 'application/vnd.msgpack'
  );
}

/** Decodes a complete body; an empty body is `undefined`. Throws INVALID_JSON, INVALID_MSGPACK or VALIDATION_FAILED. */
export function decodeBody(bytes: Uint8Array, contentType: string | undefined): unknown {
  if (bytes.byteLength === 0) return undefined;
  if (isMsgpack(contentType)) return decodeMsgpack(bytes);
  return decodeJson(bytes);
}

function decodeJson(bytes: Uint8Array): unknown {
  // Checked on the raw bytes, before parsing: cheaper than parsing and walking the result.
  if (jsonDepthExceeds(bytes, MAX_BODY_DEPTH)) throw tooDeep();
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new MailroomError('INVALID_JSON', `Malformed JSON body: ${(error as Error).message}`);
  }
}

function decodeMsgpack(bytes: Uint8Array): unknown {
  let value: unknown;
  try {
    value = unpackr.unpack(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    // A RangeError here is msgpackr's own recursion giving up on absurd nesting: still bad input.
    throw new MailroomError('INVALID_MSGPACK', `Malformed MessagePack body: ${(error as Error).message}`);
  }
  if (valueDepthExceeds(value, MAX_BODY_DEPTH)) throw tooDeep();
  return value;
}

function tooDeep(): MailroomError {
  const message = `body nests deeper than ${MAX_BODY_DEPTH} levels`;
  return new MailroomError('VALIDATION_FAILED', `Validation failed: ${message}`, {
    details: [{ path: '(body)', message }],
  });
}

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;

/** True when brackets outside strings nest deeper than `max`. Malformed JSON is left to the parser. */
export function jsonDepthExceeds(bytes: Uint8Array, max: number): boolean {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let depth = 0;
  for (let i = 0; i < buf.length; i++) {
    const byte = buf[i]!;
    if (byte === QUOTE) {
      // Skipped with a native search for the closing quote: a 2 MiB string costs microseconds.
      const close = stringEnd(buf, i);
      if (close < 0) return false;
      i = close;
    } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** Iterative, so the check itself cannot overflow the stack. */
export function valueDepthExceeds(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== 'object' || ArrayBuffer.isView(current)) continue;
    if (depth + 1 > max) return true;
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) stack.push([child, depth + 1]);
  }
  return false;
}

/** The part of the payload pool the edge uses. */
export interface BodyPreparer {
  prepareBody(
    bytes: Uint8Array,
    contentType: string | undefined,
    options: { job: boolean; owned: boolean },
  ): Promise<PreparedBody> | undefined;
}

/**
 * The exchange's `prepareBody` hook on the payload pool: large bodies are decoded there, and a job
 * submit (`POST /api/v1/jobs`) is also checked against its type's schema and hashed, so the
 * submit path does none of that on the event loop. Small bodies are left to `decodeBody`.
 */
export function poolBodies(pool: BodyPreparer): NonNullable<ExchangeOptions['prepareBody']> {
  return (ctx, bytes, owned) => {
    const job = ctx.method === 'POST' && (ctx.path === '/api/v1/jobs' || ctx.path === '/api/v1/jobs/');
    const preparing = pool.prepareBody(bytes, ctx.headers['content-type'], { job, owned });
    return preparing?.then((result) => ({ body: result.body, prepared: result.job }));
  };
}
