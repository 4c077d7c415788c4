/**
 * The scenario registry: every scenario SPEC §8 names, in the order --help lists them. A scenario
 * that needs a part this build does not have yet says so through unavailable() (exit code 2).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../harness/processes.js';
import type { Scenario } from './common.js';
import { e2eWs } from './e2e-ws.js';
import { fanout } from './fanout.js';
import { recovery } from './recovery.js';
import { submitHttp } from './submit-http.js';
import { submitWs } from './submit-ws.js';
import { workflowDag } from './workflow-dag.js';

/**
 * The payload pool's own measurement (bench/pool/mixed-payload.ts) has not been folded into the
 * harness yet; where that script exists, point to it.
 */
const mixedPayload: Scenario = {
  name: 'mixed-payload',
  description: 'small and large payloads together, showing the payload pool keeping the event loop free',
  unavailable: async () => {
    const script = join(packageRoot(), 'bench', 'pool', 'mixed-payload.ts');
    return existsSync(script)
      ? "the payload pool's measurement is a separate script for now: node --import tsx bench/pool/mixed-payload.ts"
      : 'needs the payload pool measurement (bench/pool/mixed-payload.ts), which this build does not have yet';
  },
  run: async () => {
    throw new Error('mixed-payload is not available in this harness yet');
  },
};

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
