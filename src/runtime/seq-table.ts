/**
 * Per-channel sequence numbers of reliable delivery (`outSeq`, `inSeq`), keyed by actor ref key.
 *
 * Every key is unique to a pair of actors (`job:<id>`, `workflow:<id>`). Kept as objects, these
 * tables cost V8 a hidden class per key when built as literals, and, kept in dictionary mode, an
 * internalized copy of every key: each send builds its `kind:id` key afresh, and a property lookup
 * with a new string first interns it in the process-wide string table (about 900 ns for a lookup,
 * a copy and a set, against 400 ns as a Map). A Map hashes the key and keeps it as it is. Stored
 * in Redis as key, seq pairs (stored-record.ts).
 */
export type SeqTable = ReadonlyMap<string, number>;

/** A mutable copy of `table` (or an empty table), for a turn that will add to it. */
export function copySeqs(table: SeqTable | null): Map<string, number> {
  // Copied entry by entry: `new Map(table)` took 2–3 times as long for the tables of one to four
  // entries these are.
  const copy = new Map<string, number>();
  if (table) for (const [key, seq] of table) copy.set(key, seq);
  return copy;
}

/** `table` with `key` set to `seq`. */
export function withSeq(table: SeqTable | null, key: string, seq: number): SeqTable {
  const copy = copySeqs(table);
  copy.set(key, seq);
  return copy;
}

/**
 * A table from what an older record holds: a plain object (records written before tables were
 * Maps), key, seq pairs, or nothing.
 */
export function seqTableFrom(value: unknown): SeqTable | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Map) return value as SeqTable;
  const table = new Map<string, number>();
  if (Array.isArray(value)) {
    for (let i = 0; i + 1 < value.length; i += 2) table.set(value[i] as string, value[i + 1] as number);
  } else {
    for (const [key, seq] of Object.entries(value as Record<string, number>)) table.set(key, seq);
  }
  return table;
}
