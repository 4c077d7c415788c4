/**
 * The `checksum` builtin's work: SHA-256 of `input.data` (bytes as they are, a string as UTF-8,
 * anything else as its JSON). CPU-heavy on large inputs, so it runs on the payload pool; the same
 * function runs inline when there is no pool.
 */
import { createHash } from 'node:crypto';

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
