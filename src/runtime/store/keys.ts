/**
 * Every Redis key is built here. Per-actor keys carry the actor's identity as a hash tag
 * (`{kind:id}`), so everything belonging to one actor lives in one Redis Cluster slot.
 * Index sets span actors and are namespaced per kind.
 *
 * lua/commit-4.lua and lua/remove-2.lua build the snapshot and tag keys and the timer members
 * themselves from the prefix (they get no per-actor keys), so a change to those formats must be
 * made there too.
 */
export interface KeyBuilder {
  readonly prefix: string;
  snapshot(kind: string, id: string): string;
  tag(kind: string, tag: string): string;
  timers(): string;
  /** The removal timers (`SnapshotStore.useRemovalTimers`), filed apart from the others. */
  removalTimers(): string;
  events(): string;
  eventSeq(): string;
  eventEpoch(): string;
  /** Timer set member: the actor and the timer's name, NUL-separated (ids may contain ':'). */
  timerMember(kind: string, id: string, name: string): string;
  timerMemberPrefix(kind: string, id: string): string;
}

export function createKeys(prefix: string): KeyBuilder {
  return {
    prefix,
    snapshot: (kind, id) => `${prefix}snap:{${kind}:${id}}`,
    tag: (kind, tag) => `${prefix}idx:${kind}:${tag}`,
    timers: () => `${prefix}timers`,
    removalTimers: () => `${prefix}timers:removal`,
    events: () => `${prefix}events`,
    eventSeq: () => `${prefix}events:seq`,
    eventEpoch: () => `${prefix}events:epoch`,
    timerMember: (kind, id, name) => `${kind}\0${id}\0${name}`,
    timerMemberPrefix: (kind, id) => `${kind}\0${id}\0`,
  };
}

export function parseTimerMember(member: string): { kind: string; id: string; name: string } | null {
  const first = member.indexOf('\0');
  const last = member.lastIndexOf('\0');
  if (first < 0 || last === first) return null;
  return { kind: member.slice(0, first), id: member.slice(first + 1, last), name: member.slice(last + 1) };
}
