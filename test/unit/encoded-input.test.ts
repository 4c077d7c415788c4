/**
 * Large inputs kept as JSON text: finding a top-level value's bytes without parsing, hashing a
 * `checksum` input straight from its text, the pool's preparation keeping the input as its slice
 * of the body, job views that read as the value in-process and splice the text into JSON replies.
 */
import { createHash } from 'node:crypto';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { JobState } from '../../src/actors/job.js';
import { jobView } from '../../src/actors/views.js';
import { checksumOf, checksumOfJson } from '../../src/runtime/pool/checksum.js';
import {
  EncodedInput,
  plainInput,
  SPLICED_JSON,
  type SplicedJson,
  splicedJson,
} from '../../src/runtime/pool/encoded-input.js';
import { topLevelValueRange } from '../../src/runtime/pool/json-scan.js';
import { Preparer } from '../../src/runtime/pool/prepare.js';

const bytes = (text: string) => Buffer.from(text, 'utf8');
const rangeText = (text: string, key: string) => {
  const range = topLevelValueRange(bytes(text), key);
  return range ? bytes(text).subarray(range.start, range.end).toString('utf8') : null;
};

describe('topLevelValueRange', () => {
  it('finds the value of a top-level key, whitespace trimmed', () => {
    expect(rangeText('{"type":"x","input":{"a":[1,2]},"p":3}', 'input')).toBe('{"a":[1,2]}');
    expect(rangeText(' { "input" :\n [ 1 , "]" ] \n} ', 'input')).toBe('[ 1 , "]" ]');
    expect(rangeText('{"input":"a\\"b\\\\","x":1}', 'input')).toBe('"a\\"b\\\\"');
    expect(rangeText('{"a":1,"input":null}', 'input')).toBe('null');
    expect(rangeText('{"input":-1.5e3}', 'input')).toBe('-1.5e3');
  });

  it('ignores the key inside nested values and strings, and keeps the last duplicate', () => {
    expect(rangeText('{"meta":{"input":1},"s":"\\"input\\":2","input":3}', 'input')).toBe('3');
    expect(rangeText('{"input":1,"input":{"b":2}}', 'input')).toBe('{"b":2}');
    expect(rangeText('{"meta":{"input":1}}', 'input')).toBeNull();
  });

  it('gives up on escaped top-level keys and on text that is not an object', () => {
    expect(rangeText('{"inp\\u0075t":1}', 'input')).toBeNull();
    expect(rangeText('[{"input":1}]', 'input')).toBeNull();
    expect(rangeText('"input"', 'input')).toBeNull();
  });

  it('agrees with JSON.parse on random objects', () => {
    const values = [
      0,
      -2.5,
      'plain',
      'with "quotes" and \\ and \n',
      'é😀',
      null,
      true,
      [1, [2, {}]],
      { x: { input: 1 } },
    ];
    let found = 0;
    for (let round = 0; round < 200; round++) {
      const record: Record<string, unknown> = {};
      ['a', 'input', 'b"', 'c'].forEach((key, bit) => {
        if ((round >> bit) & 1) record[key] = values[(round * 3 + bit) % values.length];
      });
      const text = JSON.stringify(record, null, round % 2 === 0 ? undefined : 2);
      const slice = rangeText(text, 'input');
      const escapedKey = Object.keys(record).some((key) => JSON.stringify(key) !== `"${key}"`);
      if (!('input' in record)) expect(slice).toBeNull();
      // A top-level key written with escapes makes the scan give up (the caller re-serializes).
      else if (slice === null) expect(escapedKey).toBe(true);
      else {
        expect(JSON.parse(slice)).toEqual(record.input);
        found++;
      }
    }
    expect(found).toBeGreaterThan(20);
  });
});

describe('checksumOfJson', () => {
  it('hashes like checksumOf on the decoded input, whatever the data', () => {
    const inputs = [
      { data: 'L'.repeat(10_000) },
      { data: 'é and 😀 in UTF-8' },
      { data: 'escaped "quote" \\ slash\nline \u0001' },
      { other: 1, data: { nested: [1, 2] } },
      { data: 42 },
      {},
      null,
    ];
    for (const input of inputs) {
      const expected = checksumOf((input as { data?: unknown } | null)?.data);
      expect(checksumOfJson(bytes(JSON.stringify(input)))).toEqual(expected);
      expect(checksumOfJson(bytes(JSON.stringify(input, null, 2)))).toEqual(expected);
    }
    // `\u00e9` written as an escape: hashed as the character it stands for.
    const escaped = checksumOfJson(bytes('{"data":"caf\\u00e9"}'));
    expect(escaped.sha256).toBe(createHash('sha256').update('café').digest('hex'));
  });

  it('hashes the decoded text when the raw bytes are not valid UTF-8', () => {
    const raw = Buffer.concat([bytes('{"data":"a'), Buffer.from([0xff]), bytes('b"}')]);
    expect(checksumOfJson(raw)).toEqual(checksumOf(JSON.parse(raw.toString('utf8')).data));
  });
});

describe('preparing a job submit with encodeInput', () => {
  const preparer = new Preparer([
    { name: 'echo' },
    { name: 'strict', input_schema: { type: 'object', required: ['n'] } },
    {
      name: 'binary',
      input_schema: { type: 'object', properties: { blob: { type: 'string', contentEncoding: 'base64' } } },
    },
  ]);
  const prepare = (body: Uint8Array, contentType = 'application/json') =>
    preparer.prepare({ bytes: body, contentType, job: true, encodeInput: true });

  it('keeps the input as its slice of the body, on shared memory, and leaves it out of the body', () => {
    const text = '{"type":"echo", "input" : {"b":[1,"x"],"a":null} ,"priority":3}';
    const shared = new Uint8Array(new SharedArrayBuffer(Buffer.byteLength(text)));
    shared.set(bytes(text));
    const result = prepare(shared);
    if (!result.ok) throw new Error('expected ok');
    expect(result.body).toEqual({ type: 'echo', input: null, priority: 3 });
    const json = result.job!.inputJson!;
    expect(json.buffer).toBe(shared.buffer);
    expect(Buffer.from(json).toString()).toBe('{"b":[1,"x"],"a":null}');

    const copied = prepare(bytes(text));
    if (!copied.ok) throw new Error('expected ok');
    expect(copied.job!.inputJson!.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(new EncodedInput(copied.job!.inputJson!).value()).toEqual({ b: [1, 'x'], a: null });
  });

  it('falls back to the serialized value when the key is written with escapes', () => {
    const result = prepare(bytes('{"type":"echo","inp\\u0075t":{"a":1}}'));
    if (!result.ok) throw new Error('expected ok');
    expect(new EncodedInput(result.job!.inputJson!).value()).toEqual({ a: 1 });
  });

  it('keeps the value (no text) for invalid inputs, binary types, MessagePack and absent inputs', () => {
    const invalid = prepare(bytes('{"type":"strict","input":{}}'));
    const binary = prepare(bytes('{"type":"binary","input":{"blob":"aGk="}}'));
    const packed = prepare(
      new Packr({ useRecords: false }).pack({ type: 'echo', input: { a: 1 } }),
      'application/msgpack',
    );
    const absent = prepare(bytes('{"type":"echo"}'));
    for (const result of [invalid, binary, packed, absent]) {
      if (!result.ok) throw new Error('expected ok');
      expect(result.job!.inputJson).toBeNull();
    }
    if (packed.ok) expect((packed.body as { input: unknown }).input).toEqual({ a: 1 });
  });
});

describe('job views of an encoded input', () => {
  const input = { text: 'x'.repeat(1_000), list: [1, 'two', { three: 3 }], quote: '"input":null' };
  const state = (value: unknown): JobState =>
    ({
      id: 'j1',
      type: 'echo',
      status: 'pending',
      priority: 0,
      input: value,
      output: null,
      error: null,
      cost: null,
      progress: 0,
      attempts: 0,
      maxAttempts: 3,
      timeoutMs: null,
      backoff: null,
      needs: { gpuMemoryGb: 0, capabilities: [] },
      workerId: null,
      lease: null,
      workflowId: null,
      step: null,
      idempotencyKey: null,
      metadata: { note: '"input":null' },
      webhookUrl: null,
      traceId: null,
      createdAt: 0,
      runAt: null,
      delayMs: 0,
      startedAt: null,
      completedAt: null,
      enqueuedAt: 0,
      cancelReason: null,
    }) as JobState;

  it('reads as the plain view in-process, and in JSON and MessagePack', () => {
    const plain = jobView(state(input));
    const view = jobView(state(new EncodedInput(bytes(JSON.stringify(input)))));
    expect(view).toEqual(plain);
    expect(view.input).toEqual(input);
    expect(Object.keys(view)).toEqual(Object.keys(plain));
    expect(JSON.stringify(view)).toBe(JSON.stringify(plain));
    const packr = new Packr({ useRecords: false });
    expect(packr.unpack(packr.pack(view))).toEqual(packr.unpack(packr.pack(plain)));
  });

  it('splices the text into the JSON reply as it is', () => {
    const text = JSON.stringify(input, null, 1);
    const view = jobView(state(new EncodedInput(bytes(text))));
    const spliced = (view as unknown as { [SPLICED_JSON]: SplicedJson })[SPLICED_JSON];
    const reply = splicedJson(spliced)!;
    expect(reply.toString()).toContain(`"input":${text},"output"`);
    expect(JSON.parse(reply.toString())).toEqual(JSON.parse(JSON.stringify(jobView(state(input)))));
    expect(SPLICED_JSON in jobView(state(input))).toBe(false);
  });

  it('plainInput decodes an encoded input and passes anything else through', () => {
    expect(plainInput(new EncodedInput(bytes('[1,2]')))).toEqual([1, 2]);
    const value = { a: 1 };
    expect(plainInput(value)).toBe(value);
  });
});
