/**
 * The scenario registry: every scenario SPEC §8 names, in the order --help lists them. A scenario
 * that needs a part this build does not have yet says so through unavailable() (exit code 2).
 */
import type { Scenario } from './common.js';
import { e2eWs } from './e2e-ws.js';
import { fanout } from './fanout.js';
import { mixedPayload } from './mixed-payload.js';
import { recovery } from './recovery.js';
import { submitHttp } from './submit-http.js';
import { submitWs } from './submit-ws.js';
import { workflowDag } from './workflow-dag.js';

export const SCENARIOS: readonly Scenario[] = [
  submitHttp,
  submitWs,
  e2eWs,
  workflowDag,
  fanout,
  mixedPayload,
  recovery,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
