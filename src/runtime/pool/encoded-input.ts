/**
 * A large job input kept as its JSON text (bytes, off the V8 heap) instead of a live value. The
 * payload pool makes it while checking a large submit; the job keeps it, replies splice the text
 * in without re-serializing, the `checksum` builtin hashes on the pool without the event loop
 * decoding anything, and whatever needs the value (views read in-process, remote and thread
 * executors, templates) decodes it when asked. A live 2 MiB input costs the loop a structured
 * clone, a `JSON.stringify` per reply and old-generation GC work while it lives; this costs none
 * of those (docs/benchmarks.md §6).
 *
 * Only the pool makes these, from text it produced itself with `JSON.stringify`, so the bytes are
 * always valid JSON and can be spliced into a reply as they are.
 */

export class EncodedInput {
  /** UTF-8 JSON text of the input. Often a SharedArrayBuffer view: sending it to a pool thread copies nothing. */
  readonly json: Uint8Array;

  constructor(json: Uint8Array) {
    this.json = json;
  }

  get byteLength(): number {
    return this.json.byteLength;
  }

  /** The input as a value. Decoded on every call and not kept: keeping it would undo the point. */
  value(): unknown {
    return JSON.parse(
      Buffer.from(this.json.buffer, this.json.byteOffset, this.json.byteLength).toString('utf8'),
    );
  }

  /** JSON.stringify and msgpackr (the Redis store's snapshots) see the value. */
  toJSON(): unknown {
    return this.value();
  }
}

/** The input as a value, whichever form the job keeps. */
export function plainInput(input: unknown): unknown {
  return input instanceof EncodedInput ? input.value() : input;
}

/**
 * Marks a reply body that carries pre-encoded JSON: `template` is the body with `key` set to null,
 * and the JSON reply is `template`'s JSON with `json` spliced in at that key. Non-enumerable on the
 * body, so JSON, MessagePack and deep equality never see it.
 */
export const SPLICED_JSON = Symbol('mailroom.splicedJson');

export interface SplicedJson {
  template: Record<string, unknown>;
  key: string;
  json: Uint8Array;
}

/**
 * The JSON reply of a body marked with SPLICED_JSON, as one Buffer. The key must be a top-level
 * key of the template whose earlier siblings are scalars (the search takes the first match, and
 * `"key":null` cannot occur inside an escaped string).
 */
export function splicedJson(spliced: SplicedJson): Buffer | undefined {
  const text = JSON.stringify(spliced.template);
  const marker = `"${spliced.key}":null`;
  const at = text.indexOf(marker);
  if (at < 0) return undefined;
  const cut = at + marker.length - 4;
  const json = spliced.json;
  return Buffer.concat([
    Buffer.from(text.slice(0, cut), 'utf8'),
    Buffer.from(json.buffer, json.byteOffset, json.byteLength),
    Buffer.from(text.slice(cut + 4), 'utf8'),
  ]);
}
