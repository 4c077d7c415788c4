/**
 * Property: whatever actors join, leave, come back and are rescored, a tag's pages (in either
 * direction, any page size, cursor after cursor) list every current member once, in score-then-id
 * order, and its counts agree; both when joins come in score order (pages by binary search) and
 * when they do not (pages by a pass over every entry). Small scores make ties the common case.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Ranked, type TagMember, TagMembers } from '../../src/runtime/store/tag-members.js';

const TAG = 't';

type Op = { kind: 'enter'; actor: number; score: number } | { kind: 'exit'; actor: number };

const op = (scores: fc.Arbitrary<number>): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 3,
      arbitrary: fc.record({ kind: fc.constant('enter' as const), actor: fc.nat(7), score: scores }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('exit' as const), actor: fc.nat(7) }) },
  );

/**
 * Plays the operations as the embedded store does: a rescored member leaves and joins again.
 * `insertWithin` 0 makes any late join give the order up, so pages take the pass over every entry.
 */
function play(ops: readonly Op[], monotone: boolean, insertWithin: number) {
  const members = new TagMembers(TAG, insertWithin);
  const actors: TagMember[] = Array.from({ length: 8 }, (_, i) => ({ id: `a${i}`, score: 0, record: null }));
  let floor = 0;
  for (const step of ops) {
    const actor = actors[step.actor]!;
    const inTag = actor.record?.tags.includes(TAG) === true;
    if (step.kind === 'exit') {
      if (!inTag) continue;
      actor.record = { tags: [] };
      members.leave();
      continue;
    }
    // In monotone runs every score given is at least the last one: joins arrive in score order.
    const score = monotone ? floor + step.score : step.score;
    floor = monotone ? score : floor;
    if (inTag && actor.score === score) continue;
    if (inTag) members.leave();
    actor.score = score;
    actor.record = { tags: [TAG] };
    members.join(actor);
  }
  const current = actors.filter((actor) => actor.record?.tags.includes(TAG));
  return { members, current };
}

function ordered(current: readonly TagMember[], sign: number): string[] {
  return [...current]
    .sort((a, b) => sign * (a.score - b.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)))
    .map((member) => member.id);
}

function allPages(members: TagMembers, sign: number, size: number): string[] {
  const ids: string[] = [];
  let after: Ranked | null = null;
  for (let pages = 0; pages < 100; pages++) {
    const page = members.page(sign, after, size + 1);
    const more = page.length > size;
    if (more) page.length = size;
    ids.push(...page.map((entry) => entry.id));
    if (!more) return ids;
    after = page[page.length - 1]!;
  }
  throw new Error('listing did not end');
}

describe('tag members', () => {
  const cases = [
    { monotone: true, insertWithin: 0, name: 'joins in score order' },
    { monotone: false, insertWithin: 3, name: 'late joins put in place when a few back' },
    { monotone: false, insertWithin: 0, name: 'late joins give the order up' },
  ];
  for (const { monotone, insertWithin, name } of cases) {
    it(`pages through every member once, in order (${name})`, () => {
      fc.assert(
        fc.property(
          fc.array(op(fc.integer({ min: 0, max: monotone ? 1 : 4 })), { maxLength: 60 }),
          fc.integer({ min: 1, max: 4 }),
          fc.integer({ min: 0, max: 5 }),
          (ops, size, minScore) => {
            const { members, current } = play(ops, monotone, insertWithin);
            expect(members.size).toBe(current.length);
            for (const sign of [1, -1]) expect(allPages(members, sign, size)).toEqual(ordered(current, sign));
            const visited: string[] = [];
            members.forEach((id) => {
              visited.push(id);
            });
            expect(visited.sort()).toEqual(current.map((member) => member.id).sort());
            expect(members.countFrom(minScore)).toBe(current.filter((m) => m.score >= minScore).length);
          },
        ),
        { numRuns: 300 },
      );
    });
  }

  it('stays right through compactions of thousands of leftovers', () => {
    const members = new TagMembers(TAG);
    const actors: TagMember[] = Array.from({ length: 5_000 }, (_, i) => ({
      id: `a${String(i).padStart(4, '0')}`,
      score: Math.floor(i / 3),
      record: { tags: [TAG] },
    }));
    for (const actor of actors) members.join(actor);
    for (const [i, actor] of actors.entries()) {
      if (i % 100 === 0) continue;
      actor.record = { tags: [] };
      members.leave();
    }
    expect(members.size).toBe(50);
    const current = actors.filter((actor) => actor.record?.tags.includes(TAG));
    expect(allPages(members, -1, 7)).toEqual(ordered(current, -1));
    expect(members.countFrom(1_000)).toBe(current.filter((m) => m.score >= 1_000).length);
  });
});
