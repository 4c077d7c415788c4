/**
 * Properties of the workflow graph validator over random graphs: every DAG validates with a
 * topological `order`; a back edge that closes a cycle is reported at exactly the steps on a cycle;
 * references to steps that do not exist, or to the step itself, are reported at their exact path.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type PlannedStep, planDag } from '../../src/actors/dag.js';
import type { StepSpec } from '../../src/schemas/workflow.js';

type Spec = Pick<StepSpec, 'name' | 'type' | 'depends_on' | 'input'>;
const known = (type: string) => type === 'echo';

/**
 * A random DAG: node `rank` r depends only on lower ranks; `position` shuffles where each node sits
 * in the steps array (so references point forward as well as back); some steps are unnamed.
 */
const dagArb = fc
  .integer({ min: 1, max: 25 })
  .chain((n) =>
    fc.record({
      n: fc.constant(n),
      deps: fc.array(fc.uniqueArray(fc.nat({ max: 1_000 }), { maxLength: 4 }), {
        minLength: n,
        maxLength: n,
      }),
      order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
      named: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
      byName: fc.array(fc.boolean(), { minLength: n * 4, maxLength: n * 4 }),
    }),
  )
  .map(({ n, deps, order, named, byName }) => {
    // order[rank] = position in the array
    const rankDeps = deps.map((raw, rank) => (rank === 0 ? [] : [...new Set(raw.map((d) => d % rank))]));
    const positionDeps: number[][] = Array.from({ length: n }, () => []);
    rankDeps.forEach((ds, rank) => {
      positionDeps[order[rank]!] = ds.map((d) => order[d]!);
    });
    return { n, positionDeps, named, byName };
  });

function nameOf(named: boolean[], position: number): string {
  return named[position] ? `n${position}` : `step-${position}`;
}

function toSpecs(g: { positionDeps: number[][]; named: boolean[]; byName: boolean[] }): Spec[] {
  let flip = 0;
  return g.positionDeps.map((deps, position) => ({
    ...(g.named[position] ? { name: `n${position}` } : {}),
    type: 'echo',
    depends_on: deps.map((d) => (g.byName[flip++ % g.byName.length] ? nameOf(g.named, d) : d)),
  }));
}

/** closure[k] = every step k depends on, directly or not (k itself only through a cycle). */
function ancestors(deps: readonly (readonly number[])[]): Set<number>[] {
  return deps.map((_, k) => {
    const found = new Set<number>();
    const stack = [...deps[k]!];
    while (stack.length > 0) {
      const d = stack.pop()!;
      if (found.has(d)) continue;
      found.add(d);
      stack.push(...deps[d]!);
    }
    return found;
  });
}

function expectTopological(order: number[], steps: PlannedStep[]): void {
  expect([...order].sort((a, b) => a - b)).toEqual(steps.map((s) => s.index));
  const at = new Map(order.map((index, i) => [index, i]));
  for (const step of steps)
    for (const dep of step.dependsOn) expect(at.get(dep)!).toBeLessThan(at.get(step.index)!);
}

describe('planDag properties', () => {
  it('validates every DAG and orders it topologically, resolving names and indices alike', () => {
    fc.assert(
      fc.property(dagArb, (g) => {
        const result = planDag(toSpecs(g), known);
        expect(result.problems).toBeNull();
        const plan = result.plan!;
        expect(plan.steps.map((s) => s.name)).toEqual(g.positionDeps.map((_, p) => nameOf(g.named, p)));
        plan.steps.forEach((step, p) => {
          expect([...step.dependsOn].sort()).toEqual([...new Set(g.positionDeps[p])].sort());
        });
        expectTopological(plan.order, plan.steps);
      }),
      { numRuns: 300 },
    );
  });

  it('reports a back edge that closes a cycle at exactly the steps on a cycle', () => {
    fc.assert(
      fc.property(dagArb, fc.nat(), fc.nat(), fc.boolean(), (g, x, y, asName) => {
        fc.pre(g.n >= 2);
        const deps = g.positionDeps.map((d) => [...d]);
        const closure = ancestors(deps);
        // Pick a step `to` and one of its ancestors `from` (adding the edge first if there is none).
        const to = x % g.n;
        let from: number;
        if (closure[to]!.size > 0) {
          const list = [...closure[to]!];
          from = list[y % list.length]!;
        } else {
          // No ancestor yet: make one of a step that does not depend on `to` (keeping it a DAG).
          const candidates = deps.map((_, k) => k).filter((k) => k !== to && !closure[k]!.has(to));
          fc.pre(candidates.length > 0);
          from = candidates[y % candidates.length]!;
          deps[to]!.push(from);
        }
        // The back edge: `from` now depends on `to`.
        const specs = toSpecs({ ...g, positionDeps: deps });
        specs[from] = {
          ...specs[from]!,
          depends_on: [...specs[from]!.depends_on!, asName ? nameOf(g.named, to) : to],
        };
        const cyclic = deps.map((d) => [...d]);
        cyclic[from]!.push(to);
        const after = ancestors(cyclic);
        const onCycle = cyclic.map((_, k) => k).filter((k) => after[k]!.has(k));
        expect(onCycle).toContain(from);
        expect(onCycle).toContain(to);

        const result = planDag(specs, known);
        expect(result.plan).toBeNull();
        expect(result.problems).toEqual(
          onCycle.map((k) => ({
            path: `steps.${k}.depends_on`,
            message: `dependency cycle through "${nameOf(g.named, k)}"`,
          })),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('reports every reference to a missing step, an out-of-range index or the step itself', () => {
    const badRef = fc.oneof(
      fc.constantFrom('ghost', 'n999', 'step-999'),
      fc.integer({ min: 0, max: 50 }).map((k) => ({ beyond: k })),
      fc.constant('self' as const),
    );
    fc.assert(
      fc.property(
        dagArb,
        fc.array(fc.tuple(fc.nat(), fc.nat(), badRef), { minLength: 1, maxLength: 6 }),
        (g, injections) => {
          const specs = toSpecs(g);
          const expected: Array<{ path: string; message: string }> = [];
          for (const [s, at, bad] of injections) {
            const index = s % g.n;
            const list = [...specs[index]!.depends_on!];
            const position = at % (list.length + 1);
            const ref =
              bad === 'self' ? nameOf(g.named, index) : typeof bad === 'string' ? bad : g.n + bad.beyond;
            list.splice(position, 0, ref);
            specs[index] = { ...specs[index]!, depends_on: list };
          }
          specs.forEach((spec, index) => {
            spec.depends_on!.forEach((ref, position) => {
              const path = `steps.${index}.depends_on.${position}`;
              if (ref === nameOf(g.named, index))
                expected.push({ path, message: 'a step cannot depend on itself' });
              else if (typeof ref === 'number' && ref >= g.n)
                expected.push({ path, message: `no step at index ${ref}` });
              else if (typeof ref === 'string' && !g.positionDeps.some((_, p) => nameOf(g.named, p) === ref))
                expected.push({ path, message: `no step named "${ref}"` });
            });
          });
          const result = planDag(specs, known);
          expect(result.plan).toBeNull();
          expect(result.problems).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reports every undeclared type at its step', () => {
    fc.assert(
      fc.property(dagArb, fc.uniqueArray(fc.nat(), { minLength: 1, maxLength: 5 }), (g, picks) => {
        const specs = toSpecs(g);
        const bad = [...new Set(picks.map((p) => p % g.n))].sort((a, b) => a - b);
        for (const index of bad) specs[index] = { ...specs[index]!, type: `type-${index}` };
        expect(planDag(specs, known).problems).toEqual(
          bad.map((index) => ({ path: `steps.${index}.type`, message: `unknown job type "type-${index}"` })),
        );
      }),
      { numRuns: 200 },
    );
  });
});
