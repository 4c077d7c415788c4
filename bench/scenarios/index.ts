/**
 * The scenario registry: every scenario SPEC §8 names, in the order --help lists them. A scenario
 * that needs a part this build does not have yet says so through unavailable() (exit code 2).
 */
import type { Scenario } from './common.js';
import { e2eWs } from './e2e-ws.js';
import { fanout } from './fanout.js';
import { recovery } from './recovery.js';
import { submitHttp } from './submit-http.js';
import { submitWs } from './submit-ws.js';
import { workflowDag } from './workflow-dag.js';

/** A registry entry for a scenario whose implementation waits on another part of the system. */
function pending(name: string, description: string, reason: string): Scenario {
  return {
    name,
    description,
    unavailable: async () => reason,
    run: async () => {
      throw new Error(reason);
    },
  };
}

export const SCENARIOS: readonly Scenario[] = [
  submitHttp,
  submitWs,
  e2eWs,
  workflowDag,
  fanout,
  pending(
    'mixed-payload',
    'small and large payloads together, showing the payload pool keeping the event loop free',
    'needs the payload pool and its measurement (bench/pool/mixed-payload.ts), which this build does not have yet',
  ),
  recovery,
];

export function findScenario(name: string): Scenario | undefined {
  return SCENARIOS.find((s) => s.name === name);
}
