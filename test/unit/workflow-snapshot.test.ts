import { describe, expect, it } from 'vitest';
import { workflowSnapshot } from '../../src/actors/workflow-snapshot.js';
import type { StepState, WorkflowState } from '../../src/actors/workflow-state.js';

function step(index: number, extra: Partial<StepState> = {}): StepState {
  return {
    index,
    name: `s${index}`,
    dependsOn: index === 0 ? [] : [index - 1],
    spec: {
      name: `s${index}`,
      type: 'echo',
      input: index === 0 ? { n: 1 } : { v: `{{ steps.s${index - 1}.output.n }}` },
    },
    jobId: `wf1-${index}`,
    status: 'failed',
    attempts: index + 1,
    output: { n: index },
    error: { code: 'E', message: `m${index}`, retryable: false },
    cost: index / 4,
    startedAt: 1_000 + index,
    completedAt: 2_000 + index,
    ...extra,
  };
}

/** Every field set, and no two alike, so a field stored in another's place shows. */
const workflow: WorkflowState = {
  id: 'wf1',
  name: 'diamond',
  definition: 'def',
  version: 3,
  status: 'failed',
  onFailure: 'continue',
  input: { x: 1 },
  steps: [step(0), step(1, { late: { status: 'completed', output: { n: 9 } } }), step(2, { late: null })],
  webhookUrl: 'http://127.0.0.1:1/hook',
  idempotencyKey: 'k1',
  metadata: { team: 'a' },
  traceId: 't1',
  createdAt: 10,
  completedAt: 20,
};

describe('workflowSnapshot', () => {
  it('stores a workflow without field names and reads back the same one, fields in the same order', () => {
    const stored = workflowSnapshot.encode(workflow);
    // (A late result is a partial step and keeps its names; the step itself does not.)
    expect(JSON.stringify(stored)).not.toContain('"completedAt"');
    const decoded = workflowSnapshot.decode(structuredClone(stored))!;
    expect(decoded).toEqual(workflow);
    expect(Object.keys(decoded)).toEqual(Object.keys(workflow));
    expect(decoded.steps.map((s) => Object.keys(s))).toEqual(workflow.steps.map((s) => Object.keys(s)));
  });

  it('keeps "no workflow" as null and reads one stored before layouts as it was', () => {
    expect(workflowSnapshot.encode(null)).toBeNull();
    expect(workflowSnapshot.decode(null)).toBeNull();
    expect(workflowSnapshot.decode(structuredClone(workflow))).toEqual(workflow);
  });

  it('refuses a layout it does not know instead of misreading it', () => {
    const stored = workflowSnapshot.encode(workflow) as unknown[];
    stored[0] = 2;
    expect(() => workflowSnapshot.decode(stored)).toThrow(/layout 2/);
  });
});
