/**
 * Per-channel sequence numbers of reliable delivery (`outSeq`, `inSeq`), keyed by actor ref key.
 *
 * Every key is unique to a pair of actors (`job:<id>`, `workflow:<id>`), so building these tables
 * with object literals (`{ ...table, [key]: seq }`) made V8 create a hidden class per key: a new
 * map transition on every write and megamorphic property access wherever a table is read. Tables
 * built here have no prototype, which V8 keeps in dictionary mode: a key costs a hash insert.
 * They stay plain data to msgpack and JSON.
 */
export type SeqTable = Readonly<Record<string, number>>;

/** A mutable copy of `table` (or an empty table), for a turn that will add to it. */
export function copySeqs(table: SeqTable | null): Record<string, number> {
  const copy: Record<string, number> = Object.create(null);
  if (table) for (const key in table) copy[key] = table[key]!;
  return copy;
}

/** `table` with `key` set to `seq`. */
export function withSeq(table: SeqTable | null, key: string, seq: number): SeqTable {
  const copy = copySeqs(table);
  copy[key] = seq;
  return copy;
}
