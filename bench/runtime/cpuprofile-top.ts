/**
 * Prints the hottest frames of a V8 .cpuprofile (from `node --cpu-prof`): self time and total
 * (inclusive) time per function, so a missed target can be explained without a GUI.
 *   node --import tsx bench/runtime/cpuprofile-top.ts <file.cpuprofile> [--top 25] [--json]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { table } from './common.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const { values, positionals } = parseArgs({
  options: { top: { type: 'string', default: '25' }, json: { type: 'boolean', default: false } },
  allowPositionals: true,
});
const file = positionals[0];
if (!file) {
  console.error('usage: cpuprofile-top.ts <file.cpuprofile> [--top N] [--json]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const parent = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

const label = (node: ProfileNode) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const short = url.replace(/^file:\/\//, '').replace(/^.*\/(src|bench|node_modules)\//, '$1/');
  // tsx's transpiled modules report line 0 for every frame; show a line only when it means something.
  const where = short && lineNumber > 0 ? `${short}:${lineNumber + 1}` : short;
  return `${functionName || '(anonymous)'} ${where}`.trim();
};

const self = new Map<string, number>();
const total = new Map<string, number>();
let all = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i] ?? 0;
  all += dt;
  let id: number | undefined = profile.samples[i]!;
  const leaf = label(byId.get(id)!);
  self.set(leaf, (self.get(leaf) ?? 0) + dt);
  const seen = new Set<string>();
  while (id !== undefined) {
    const name = label(byId.get(id)!);
    if (!seen.has(name)) {
      seen.add(name);
      total.set(name, (total.get(name) ?? 0) + dt);
    }
    id = parent.get(id);
  }
}

const top = Number(values.top);
const pct = (us: number) => ((us / all) * 100).toFixed(1);
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
if (values.json) {
  console.log(
    JSON.stringify({ totalMs: all / 1000, self: rows.map(([name, us]) => ({ name, pct: Number(pct(us)) })) }),
  );
} else {
  console.log(`profile: ${(all / 1e6).toFixed(2)} s sampled\n`);
  console.log(
    table([
      ['self %', 'total %', 'function'],
      ...rows.map(([name, us]) => [pct(us), pct(total.get(name) ?? 0), name]),
    ]),
  );
}
