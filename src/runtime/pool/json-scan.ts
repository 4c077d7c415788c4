/**
 * Finds where a top-level key's value sits in JSON text, without parsing it. The payload pool
 * keeps a large job's input as its slice of the request body (no `JSON.stringify`, no copy), and
 * the `checksum` builtin hashes a plain string's bytes straight from that slice. Strings are
 * skipped with a native search for the closing quote, so string-heavy text scans at memchr speed.
 *
 * Only for text that JSON.parse has already accepted: the scan does not validate.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The byte range of the value of `key` in a JSON object text (the last occurrence, as JSON.parse
 * keeps), or null when the text is not an object, the key is absent, or a top-level key is written
 * with escapes (it might spell `key`: the caller falls back to the parsed value).
 */
export function topLevelValueRange(bytes: Uint8Array, key: string): ByteRange | null {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const wanted = Buffer.from(key, 'utf8');
  const n = buf.length;
  let i = skipSpace(buf, 0);
  if (buf[i] !== OPEN_BRACE) return null;
  i++;
  let depth = 1;
  let expectKey = true;
  let valueStart = -1;
  let found: ByteRange | null = null;
  while (i < n) {
    const byte = buf[i]!;
    if (byte === QUOTE) {
      const close = stringEnd(buf, i);
      if (close < 0) return null;
      if (depth === 1 && expectKey) {
        for (let k = i + 1; k < close; k++) if (buf[k] === BACKSLASH) return null;
        const matches =
          close - i - 1 === wanted.length && buf.compare(wanted, 0, wanted.length, i + 1, close) === 0;
        i = skipSpace(buf, close + 1);
        if (buf[i] !== COLON) return null;
        i = skipSpace(buf, i + 1);
        valueStart = matches ? i : -1;
        expectKey = false;
        continue;
      }
      i = close + 1;
      continue;
    }
    if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
      depth++;
    } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) {
        if (valueStart >= 0) found = { start: valueStart, end: trimEnd(buf, valueStart, i) };
        return found;
      }
    } else if (byte === COMMA && depth === 1) {
      if (valueStart >= 0) found = { start: valueStart, end: trimEnd(buf, valueStart, i) };
      valueStart = -1;
      expectKey = true;
    }
    i++;
  }
  return null;
}

/**
 * The index of the quote closing the string that opens at `open`, or -1. A quote is escaped when
 * an odd number of backslashes precede it.
 */
export function stringEnd(buf: Buffer, open: number): number {
  let from = open + 1;
  for (;;) {
    const quote = buf.indexOf(QUOTE, from);
    if (quote < 0) return -1;
    let slashes = 0;
    while (buf[quote - 1 - slashes] === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote;
    from = quote + 1;
  }
}

function isSpace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

function skipSpace(buf: Buffer, at: number): number {
  let i = at;
  while (isSpace(buf[i])) i++;
  return i;
}

function trimEnd(buf: Buffer, start: number, end: number): number {
  let i = end;
  while (i > start && isSpace(buf[i - 1])) i--;
  return i;
}
