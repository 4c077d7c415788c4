/**
 * The `checksum` builtin's work: SHA-256 of `input.data` (bytes as they are, a string as UTF-8,
 * anything else as its JSON). CPU-heavy on large inputs, so it runs on the payload pool; the same
 * function runs inline when there is no pool.
 */
import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { stringEnd, topLevelValueRange } from './json-scan.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

export interface ChecksumResult {
  sha256: string;
  bytes: number;
}

export function checksumOf(data: unknown): ChecksumResult {
  const bytes = ArrayBuffer.isView(data)
    ? Buffer.from(data.buffer, data.byteOffset, data.byteLength)
    : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data ?? null), 'utf8');
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.byteLength };
}

/**
 * The same, for an input kept as JSON text (encoded-input.ts). When `data` is a string written
 * without escapes in valid UTF-8, its bytes in the text are exactly its UTF-8 form: hashed where
 * they lie, nothing decoded. Otherwise the text is decoded first.
 */
export function checksumOfJson(json: Uint8Array): ChecksumResult {
  const range = topLevelValueRange(json, 'data');
  if (range && json[range.start] === QUOTE) {
    const text = Buffer.from(json.buffer, json.byteOffset + range.start, range.end - range.start);
    const close = stringEnd(text, 0);
    if (close === text.length - 1 && text.indexOf(BACKSLASH) < 0) {
      const raw = text.subarray(1, close);
      if (isUtf8(raw)) {
        return { sha256: createHash('sha256').update(raw).digest('hex'), bytes: raw.byteLength };
      }
    }
  }
  const input = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8')) as {
    data?: unknown;
  } | null;
  return checksumOf(input?.data);
}
