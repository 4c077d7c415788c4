/**
 * Two-level maps keyed by strings the caller already holds (a kind, then an id), instead of one map
 * under a joined key: a joined key is a new string to build and hash on every lookup.
 */

/** The map under `key` in `outer`, made and filed there on first use. */
export function innerMap<K, V>(outer: Map<string, Map<K, V>>, key: string): Map<K, V> {
  let inner = outer.get(key);
  if (!inner) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}
