/**
 * The scenario registry: every scenario SPEC §8 names, in the order --help lists them. A scenario
 * that needs a part this build does not have yet says so through unavailable() (exit code 2).
 */
import type { Scenario } from './common.js';
import { recovery } from './recovery.js';
import { submitHttp } from './submit-http.js';
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

const WS =
  'needs the WebSocket client protocol (/ws, /ws/worker) and src/client/ws-client.ts, which this build does not have yet';

export const SCENARIOS: readonly Scenario[] = [
  submitHttp,
  pending('submit-ws', 'submit jobs over the /ws client protocol; latency = submit_job → ack', WS),
  pending('e2e-ws', 'submit → remote worker over /ws/worker → job_completed event', WS),
  workflowDag,
  pending('fanout', 'one stream of job events delivered to many /ws subscribers', WS),
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
