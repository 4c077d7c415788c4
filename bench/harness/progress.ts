/**
 * The live progress line on stderr: elapsed time, answers, rate over the last second, in flight,
 * errors. On a terminal it rewrites one line; otherwise (CI, a pipe) it prints a line every 5 s.
 */
import type { Recorder } from './load.js';
import { fmtRate } from './table.js';

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private lastOk = 0;
  private lastAt = 0;
  private readonly tty = process.stderr.isTTY === true;
  private ticks = 0;

  constructor(
    private readonly label: string,
    private readonly recorder: Recorder,
    private readonly durationMs: number,
    private readonly quiet: boolean,
  ) {}

  start(): void {
    if (this.quiet) return;
    this.lastAt = performance.now();
    this.timer = setInterval(() => this.tick(), 1_000);
    this.timer.unref();
  }

  private tick(): void {
    const now = performance.now();
    const r = this.recorder;
    const rate = ((r.ok - this.lastOk) * 1000) / (now - this.lastAt);
    this.lastOk = r.ok;
    this.lastAt = now;
    this.ticks++;
    const elapsed = Math.min(this.durationMs, now - r.startMs) / 1000;
    const line = `${this.label} ${elapsed.toFixed(0)}/${(this.durationMs / 1000).toFixed(0)}s  ok ${r.ok}  ${fmtRate(rate)}  in flight ${r.inFlight}  errors ${r.errors}`;
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}`);
    else if (this.ticks % 5 === 0) process.stderr.write(`${line}\n`);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.tty && !this.quiet) process.stderr.write('\r\x1b[2K');
  }
}
