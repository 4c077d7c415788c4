/**
 * W3C Trace Context (`traceparent`): the incoming header is parsed and validated, its trace id
 * flows into every event the request causes, and the response names the same trace with a span
 * id of its own. A request without a valid header starts a new trace.
 */
import { randomBytes } from 'node:crypto';

export interface TraceContext {
  /** 32 lower-case hex digits, never all zeros. */
  traceId: string;
  /** This request's span: 16 lower-case hex digits, new for every request. */
  spanId: string;
  /** Two hex digits, echoed from the caller (sampled when we start the trace). */
  flags: string;
}

// version-traceid-parentid-flags. Version ff is forbidden; a future version may append fields
// after a dash, which the spec says to ignore, so anything after the flags is allowed only then.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** The caller's trace, or null when the header is absent or invalid (the spec says: start anew). */
export function parseTraceparent(header: string | undefined): { traceId: string; flags: string } | null {
  if (header === undefined || header.length > 512) return null;
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return null;
  const [, version, traceId, parentId, flags, rest] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
    string | undefined,
  ];
  if (version === 'ff') return null;
  if (version === '00' && rest !== undefined) return null;
  if (traceId === ZERO_TRACE || parentId === ZERO_SPAN) return null;
  return { traceId, flags };
}

/** The trace context for one request: continued from `header` when valid, new otherwise. */
export function traceContext(header: string | undefined): TraceContext {
  const incoming = parseTraceparent(header);
  return {
    traceId: incoming?.traceId ?? randomHex(16, ZERO_TRACE),
    spanId: randomHex(8, ZERO_SPAN),
    flags: incoming?.flags ?? '01',
  };
}

export function formatTraceparent(trace: TraceContext): string {
  return `00-${trace.traceId}-${trace.spanId}-${trace.flags}`;
}

// Random ids come from a pooled buffer: one randomBytes call per 256 requests, not two per request.
const POOL_SIZE = 24 * 256;
let pool = Buffer.alloc(0);
let offset = 0;

function randomHex(bytes: number, zero: string): string {
  for (;;) {
    if (offset + bytes > pool.length) {
      pool = randomBytes(POOL_SIZE);
      offset = 0;
    }
    const hex = pool.toString('hex', offset, offset + bytes);
    offset += bytes;
    if (hex !== zero) return hex;
  }
}
