/**
 * Workflow graph validation and shape: step names, `depends_on` resolved to indices, cycles,
 * declared types and template references, each problem reported with its field path.
 */
import type { ErrorDetail } from '../errors.js';
import type { StepSpec } from '../schemas/workflow.js';
import { collectReferences, type TemplateError } from './templates.js';

export interface PlannedStep {
  index: number;
  name: string;
  dependsOn: number[];
}

export interface DagPlan {
  steps: PlannedStep[];
  /** Indices in an order where every step follows its dependencies. */
  order: number[];
}

export function defaultStepName(index: number): string {
  return `step-${index}`;
}

/**
 * Validates the graph. Returns the plan, or the list of problems (never both). `isKnownType`
 * checks that a step's type is declared in the config.
 */
export function planDag(
  steps: readonly Pick<StepSpec, 'name' | 'type' | 'depends_on' | 'input'>[],
  isKnownType: (type: string) => boolean,
): { plan: DagPlan; problems: null } | { plan: null; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  const names = steps.map((step, index) => step.name ?? defaultStepName(index));
  const byName = new Map<string, number>();
  names.forEach((name, index) => {
    if (byName.has(name)) {
      problems.push({ path: `steps.${index}.name`, message: `duplicate step name "${name}"` });
    } else {
      byName.set(name, index);
    }
  });

  const planned: PlannedStep[] = steps.map((step, index) => {
    if (!isKnownType(step.type)) {
      problems.push({ path: `steps.${index}.type`, message: `unknown job type "${step.type}"` });
    }
    const dependsOn: number[] = [];
    (step.depends_on ?? []).forEach((ref, position) => {
      const path = `steps.${index}.depends_on.${position}`;
      const target = typeof ref === 'number' ? ref : byName.get(ref);
      if (target === undefined || target >= steps.length) {
        problems.push({
          path,
          message: `no step ${typeof ref === 'number' ? `at index ${ref}` : `named "${ref}"`}`,
        });
      } else if (target === index) {
        problems.push({ path, message: 'a step cannot depend on itself' });
      } else if (!dependsOn.includes(target)) {
        dependsOn.push(target);
      }
    });
    return { index, name: names[index]!, dependsOn };
  });

  const order = topologicalOrder(planned);
  if (order.length < planned.length) {
    // Kahn's leftovers include steps that merely depend on a cycle; naming those "cycle through"
    // sent users hunting for a cycle that is not there, so only steps on a cycle are reported.
    const inCycle = planned.filter(
      (step) => !order.includes(step.index) && reachesItself(planned, step.index),
    );
    for (const step of inCycle) {
      problems.push({
        path: `steps.${step.index}.depends_on`,
        message: `dependency cycle through "${step.name}"`,
      });
    }
  } else {
    const ancestors = ancestorSets(planned, order);
    steps.forEach((step, index) => {
      let references: ReturnType<typeof collectReferences>;
      try {
        references = collectReferences(step.input);
      } catch (error) {
        problems.push({ path: `steps.${index}.input`, message: (error as TemplateError).message });
        return;
      }
      for (const reference of references) {
        if (reference.source !== 'step') continue;
        const target = byName.get(reference.step);
        if (target === undefined) {
          problems.push({
            path: `steps.${index}.input`,
            message: `template references unknown step "${reference.step}"`,
          });
        } else if (!ancestors[index]!.has(target)) {
          problems.push({
            path: `steps.${index}.input`,
            message: `template references step "${reference.step}", which is not among this step's dependencies`,
          });
        }
      }
    });
  }

  if (problems.length > 0) return { plan: null, problems };
  return { plan: { steps: planned, order }, problems: null };
}

/** Kahn's algorithm; steps in a cycle are left out of the result. */
export function topologicalOrder(steps: readonly PlannedStep[]): number[] {
  const remaining = steps.map((step) => step.dependsOn.length);
  const dependents: number[][] = steps.map(() => []);
  for (const step of steps) for (const dep of step.dependsOn) dependents[dep]!.push(step.index);
  const ready = steps.filter((step) => step.dependsOn.length === 0).map((step) => step.index);
  const order: number[] = [];
  while (ready.length > 0) {
    const next = ready.shift()!;
    order.push(next);
    for (const dependent of dependents[next]!) {
      remaining[dependent]!--;
      if (remaining[dependent] === 0) ready.push(dependent);
    }
  }
  return order;
}

/** True when following `dependsOn` from `start` leads back to it. */
function reachesItself(steps: readonly PlannedStep[], start: number): boolean {
  const seen = new Set<number>();
  const stack = [...steps[start]!.dependsOn];
  while (stack.length > 0) {
    const current = stack.pop()!;
    if (current === start) return true;
    if (seen.has(current)) continue;
    seen.add(current);
    stack.push(...steps[current]!.dependsOn);
  }
  return false;
}

function ancestorSets(steps: readonly PlannedStep[], order: readonly number[]): Set<number>[] {
  const sets = steps.map(() => new Set<number>());
  for (const index of order) {
    for (const dep of steps[index]!.dependsOn) {
      sets[index]!.add(dep);
      for (const ancestor of sets[dep]!) sets[index]!.add(ancestor);
    }
  }
  return sets;
}

/** Steps that can never run once `failed` has failed: everything downstream of it. */
export function descendants(steps: readonly PlannedStep[], failed: number): Set<number> {
  const found = new Set<number>();
  const queue = [failed];
  while (queue.length > 0) {
    const current = queue.pop()!;
    for (const step of steps) {
      if (step.dependsOn.includes(current) && !found.has(step.index)) {
        found.add(step.index);
        queue.push(step.index);
      }
    }
  }
  return found;
}
