/**
 * Payload preparation as a pure function (what the pool's threads run): decode, schema check with
 * the inline path's exact details, binary fields, content digest and the snapshot form.
 */
import { inflateSync } from 'node:zlib';
import { Packr, unpack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { JobFactory } from '../../src/actors/job-factory.js';
import { contentDigest } from '../../src/runtime/pool/content-digest.js';
import { encodeSnapshot, Preparer, type PrepareTask } from '../../src/runtime/pool/prepare.js';

const schema = {
  type: 'object',
  properties: {
    name: { type: 'string', minLength: 1 },
    count: { type: 'integer', minimum: 0 },
    blob: { type: 'string', contentEncoding: 'base64' },
    nested: { type: 'object', properties: { raw: { type: 'string', contentEncoding: 'base64' } } },
  },
  required: ['name'],
  additionalProperties: false,
};
const types = [{ name: 'thing', executor: 'remote', input_schema: schema } as const];
const preparer = new Preparer(types);
const factory = new JobFactory({ job_types: types as never });

const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const task = (bytes: Uint8Array, extra: Partial<PrepareTask> = {}): PrepareTask => ({
  bytes,
  contentType: 'application/json',
  job: true,
  ...extra,
});

describe('Preparer', () => {
  it('reports the same details as the inline check for an invalid input', () => {
    const input = { count: -1, extra: true, name: '' };
    const result = preparer.prepare(task(json({ type: 'thing', input })));
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.job?.problems.length).toBeGreaterThan(0);
    expect(result.job?.problems).toEqual(factory.validateInput('thing', input, 'input'));
  });

  it('turns declared-binary base64 fields into bytes, as the inline path does', () => {
    const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);
    const input = { name: 'x', blob: bytes.toString('base64'), nested: { raw: bytes.toString('base64url') } };
    const result = preparer.prepare(task(json({ type: 'thing', input, idempotency_key: 'content' })));
    if (!result.ok) throw new Error('not ok');
    const prepared = (result.body as { input: { blob: Uint8Array; nested: { raw: Uint8Array } } }).input;
    expect(Buffer.from(prepared.blob)).toEqual(bytes);
    expect(Buffer.from(prepared.nested.raw)).toEqual(bytes);
    const inline = factory.prepareInput('thing', input);
    expect(inline.problems).toEqual([]);
    expect(Buffer.from((inline.input as { blob: Uint8Array }).blob)).toEqual(bytes);
    expect(result.job?.digest).toBe(contentDigest('thing', inline.input));
  });

  it('refuses a binary field that is not base64, with its path', () => {
    const result = preparer.prepare(task(json({ type: 'thing', input: { name: 'x', blob: 'no!t base64' } })));
    if (!result.ok) throw new Error('not ok');
    expect(result.job?.problems).toEqual([{ path: 'input.blob', message: 'must be base64' }]);
  });

  it('hashes equal content alike whatever the encoding and key order', () => {
    const key = { idempotency_key: 'content' };
    const a = preparer.prepare(task(json({ type: 'thing', input: { name: 'n', count: 2 }, ...key })));
    const packed = new Packr({ useRecords: false }).pack({
      ...key,
      input: { count: 2, name: 'n' },
      type: 'thing',
    });
    const b = preparer.prepare(task(packed, { contentType: 'application/msgpack' }));
    const c = preparer.prepare(task(json({ type: 'thing', input: { name: 'n', count: 3 }, ...key })));
    // Without the content key nothing is hashed: on megabytes it costs more than decoding.
    const unhashed = preparer.prepare(task(json({ type: 'thing', input: { name: 'n' } })));
    expect(unhashed).toMatchObject({ ok: true, job: { digest: null } });
    if (!a.ok || !b.ok || !c.ok) throw new Error('not ok');
    expect(a.job?.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(b.job?.digest).toBe(a.job?.digest);
    expect(c.job?.digest).not.toBe(a.job?.digest);
  });

  it('returns decode failures as error records with the edge codes', () => {
    const bad = preparer.prepare(task(Buffer.from('{"type": "thing", "input": {')));
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_JSON', retryable: false } });
    const deep = preparer.prepare(task(Buffer.from(`${'['.repeat(200)}${']'.repeat(200)}`)));
    expect(deep).toMatchObject({ ok: false, error: { code: 'VALIDATION_FAILED' } });
    const msgpack = preparer.prepare(
      task(Buffer.from([0x82, 0xa4, 0x74]), { contentType: 'application/msgpack' }),
    );
    expect(msgpack).toMatchObject({ ok: false, error: { code: 'INVALID_MSGPACK' } });
  });

  it('leaves unknown types and non-job bodies to the submit path', () => {
    const unknown = preparer.prepare(task(json({ type: 'nope', input: {} })));
    expect(unknown).toMatchObject({ ok: true, job: null });
    const plain = preparer.prepare(task(json({ type: 'thing', input: { name: 'x' } }), { job: false }));
    expect(plain).toMatchObject({ ok: true, job: null, body: { type: 'thing' } });
  });

  it('encodes the snapshot form and compresses it above the size', () => {
    const value = { name: 'x', text: 'abc'.repeat(10_000) };
    const small = encodeSnapshot({ name: 'x' }, { compressAboveBytes: 1024, compression: 'zlib' });
    expect(small.encoding).toBe('msgpack');
    expect(unpack(small.bytes)).toEqual({ name: 'x' });
    const zlib = encodeSnapshot(value, { compressAboveBytes: 1024, compression: 'zlib' });
    expect(zlib.encoding).toBe('msgpack+zlib');
    expect(zlib.bytes.byteLength).toBeLessThan(3_000);
    expect(unpack(inflateSync(zlib.bytes))).toEqual(value);
    const br = encodeSnapshot(value, { compressAboveBytes: 1024, compression: 'brotli' });
    expect(br.encoding).toBe('msgpack+br');
    // The snapshot owns its bytes (never a view into msgpackr's reused buffer).
    expect(small.bytes.byteOffset).toBe(0);
    expect(small.bytes.buffer.byteLength).toBe(small.bytes.byteLength);
  });
});
