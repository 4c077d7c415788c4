/**
 * The content digest of a job: SHA-256 over a canonical form of `[type, input]` (object keys
 * sorted, bytes as `{"$bytes": base64}`), so the same input sent as JSON or as MessagePack, with
 * keys in any order, hashes alike. `idempotency_key: "content"` uses it to dedupe identical inputs.
 */
import { createHash, type Hash } from 'node:crypto';

export function contentDigest(type: string, input: unknown): string {
  const hash = createHash('sha256');
  hash.update('[');
  hash.update(JSON.stringify(type));
  hash.update(',');
  writeCanonical(hash, input === undefined ? null : input);
  hash.update(']');
  return hash.digest('hex');
}

/** Streams into the hash instead of building one big string: inputs here are megabytes. */
function writeCanonical(hash: Hash, value: unknown): void {
  if (value === null || typeof value !== 'object') {
    // undefined inside objects is skipped below; inside arrays JSON says null.
    hash.update(value === undefined ? 'null' : JSON.stringify(value));
    return;
  }
  if (ArrayBuffer.isView(value)) {
    const bytes = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    hash.update('{"$bytes":"');
    hash.update(bytes.toString('base64'));
    hash.update('"}');
    return;
  }
  if (Array.isArray(value)) {
    hash.update('[');
    value.forEach((item, index) => {
      if (index > 0) hash.update(',');
      writeCanonical(hash, item);
    });
    hash.update(']');
    return;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort();
  hash.update('{');
  keys.forEach((key, index) => {
    if (index > 0) hash.update(',');
    hash.update(JSON.stringify(key));
    hash.update(':');
    writeCanonical(hash, record[key]);
  });
  hash.update('}');
}
