import { describe, expect, it } from 'vitest';
import { type Runnable, Scheduler } from '../../src/runtime/scheduler.js';
import { settle } from './helpers.js';

/** A runnable with `count` messages that logs each one it processes. */
function runnable(name: string, count: number, log: string[]): Runnable & { left: number } {
  return {
    queued: false,
    left: count,
    runSlice(max: number): number {
      let done = 0;
      while (done < max && this.left > 0) {
        this.left--;
        done++;
        log.push(name);
      }
      return done;
    },
    hasWork(): boolean {
      return this.left > 0;
    },
  };
}

function runs(log: string[]): string[] {
  const out: string[] = [];
  for (const name of log) {
    const last = out[out.length - 1];
    if (last?.startsWith(name)) out[out.length - 1] = `${name}${Number(last.slice(name.length)) + 1}`;
    else out.push(`${name}1`);
  }
  return out;
}

describe('Scheduler', () => {
  it('gives each runnable at most `throughput` messages per go, round-robin', async () => {
    const log: string[] = [];
    const scheduler = new Scheduler({ throughput: 3, afterTurn: () => {} });
    scheduler.schedule(runnable('a', 7, log));
    scheduler.schedule(runnable('b', 4, log));
    await settle();
    expect(runs(log)).toEqual(['a3', 'b3', 'a3', 'b1', 'a1']);
    expect(scheduler.processed).toBe(11);
    expect(scheduler.queuedCount).toBe(0);
  });

  it('queues a runnable once however often it is scheduled', async () => {
    const log: string[] = [];
    const scheduler = new Scheduler({ afterTurn: () => {} });
    const a = runnable('a', 2, log);
    scheduler.schedule(a);
    scheduler.schedule(a);
    scheduler.schedule(a);
    expect(scheduler.queuedCount).toBe(1);
    await settle();
    expect(log).toEqual(['a', 'a']);
    expect(a.queued).toBe(false);
  });

  it('runs nothing synchronously: work starts on a later tick', async () => {
    const log: string[] = [];
    const scheduler = new Scheduler({ afterTurn: () => {} });
    scheduler.schedule(runnable('a', 1, log));
    expect(log).toEqual([]);
    await settle();
    expect(log).toEqual(['a']);
  });

  it('yields to I/O after turnMessages and continues on the next tick', async () => {
    const log: string[] = [];
    let turns = 0;
    const scheduler = new Scheduler({ throughput: 5, turnMessages: 10, afterTurn: () => turns++ });
    scheduler.schedule(runnable('a', 35, log));
    const seenByIo: number[] = [];
    await new Promise<void>((resolve) => {
      const poll = () => {
        seenByIo.push(scheduler.processed);
        if (scheduler.processed < 35) setImmediate(poll);
        else resolve();
      };
      setImmediate(poll);
    });
    // I/O callbacks ran between turns: they saw the work progress ten messages at a time
    expect(seenByIo.slice(0, 4)).toEqual([10, 20, 30, 35]);
    expect(turns).toBe(4);
  });

  it('calls afterTurn after every turn, even one requested with nothing queued', async () => {
    let turns = 0;
    const scheduler = new Scheduler({ afterTurn: () => turns++ });
    scheduler.requestTurn();
    scheduler.requestTurn();
    await settle();
    expect(turns).toBe(1);
  });

  it('a runnable scheduled from inside a turn runs in the same turn', async () => {
    const log: string[] = [];
    let turns = 0;
    const scheduler = new Scheduler({ afterTurn: () => turns++ });
    const b = runnable('b', 1, log);
    const a: Runnable = {
      queued: false,
      runSlice() {
        log.push('a');
        scheduler.schedule(b);
        return 1;
      },
      hasWork: () => false,
    };
    scheduler.schedule(a);
    await settle();
    expect(log).toEqual(['a', 'b']);
    expect(turns).toBe(1);
  });

  it('takes the longer budget for the turns that follow one cut short, until the queue empties', async () => {
    // Every message takes 0.25 ms of a clock the test moves. A slice is one message here, and with a
    // throughput of 256 the clock is read after every slice (it is read every few hundred messages).
    let clock = 0;
    const perTurn: number[] = [];
    let processedBefore = 0;
    const scheduler = new Scheduler({
      throughput: 256,
      turnMicros: 1_000,
      busyTurnMicros: 4_000,
      now: () => clock,
      afterTurn: () => {
        perTurn.push(scheduler.processed - processedBefore);
        processedBefore = scheduler.processed;
      },
    });
    const slow = (left: number): Runnable & { left: number } => ({
      queued: false,
      left,
      runSlice() {
        this.left--;
        clock += 0.25;
        return 1;
      },
      hasWork() {
        return this.left > 0;
      },
    });
    scheduler.schedule(slow(60));
    await settle();
    // 5 messages pass 1 ms, 17 pass 4 ms; the last turn empties the queue.
    expect(perTurn).toEqual([5, 17, 17, 17, 4]);
    // Not saturated any more: the next work gets the short budget again.
    perTurn.length = 0;
    scheduler.schedule(slow(10));
    await settle();
    expect(perTurn).toEqual([5, 5]);
  });
});
