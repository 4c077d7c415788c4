/**
 * What the report says about the machine, and CPU use of this process and of child processes
 * (the server, the BullMQ peer, redis-server) over a window, so a reader can see whether the
 * generator or something else was the bottleneck. Process CPU comes from /proc (Linux).
 */
import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, platform, release, totalmem } from 'node:os';

export function machineInfo() {
  return {
    cpus: availableParallelism(),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${platform()} ${release()}`,
  };
}

/** Clock ticks per second of /proc/<pid>/stat times; 100 on every Linux Node supports. */
const TICKS = 100;

/** User + system CPU seconds of a process, or undefined where /proc is not readable. */
export function processCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; the fields after it start past the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return undefined;
  }
}

/** Measures CPU % of one core for this process and some others between start and stop. */
export class CpuMeter {
  private readonly self = process.cpuUsage();
  private readonly started = performance.now();
  private readonly others = new Map<string, { pid: number; cpu: number | undefined }>();

  constructor(pids: Record<string, number | undefined>) {
    for (const [name, pid] of Object.entries(pids)) {
      if (pid !== undefined) this.others.set(name, { pid, cpu: processCpuSeconds(pid) });
    }
  }

  stop(): { generator: number; [name: string]: number } {
    const wallMs = performance.now() - this.started;
    const usage = process.cpuUsage(this.self);
    const pct = (cpuMs: number) => Math.round((cpuMs / wallMs) * 1000) / 10;
    const out: { generator: number; [name: string]: number } = {
      generator: pct((usage.user + usage.system) / 1000),
    };
    for (const [name, { pid, cpu }] of this.others) {
      const now = processCpuSeconds(pid);
      if (cpu !== undefined && now !== undefined) out[name] = pct((now - cpu) * 1000);
    }
    return out;
  }
}
