import { afterEach, describe, expect, it } from 'vitest';
import type { ActorLogic, ActorRef } from '../../src/runtime/actor.js';
import { defineActor } from '../../src/runtime/actor.js';
import { SimulatedClock } from '../../src/runtime/clock.js';
import { MemoryStore } from '../../src/runtime/store/memory-store.js';
import {
  type DeadLetter,
  type Directive,
  type SupervisorStrategy,
  strategy,
} from '../../src/runtime/supervisor.js';
import { type ActorSystem, createSystem, type SystemOptions } from '../../src/runtime/system.js';
import { ControlledStore, rejectionCode, settle, track } from './helpers.js';

type Msg =
  | { type: 'add'; value: string }
  | { type: 'read' }
  | { type: 'boom'; tag: string }
  /** Throws the first `failures` times it is received (counted across restarts, outside state). */
  | { type: 'flaky'; key: string; failures: number }
  | { type: 'async-boom' };

/** Records what reached `receive`, outside actor state, so restarts cannot hide attempts. */
function tracker() {
  const attempts = new Map<string, number>();
  const calls: string[] = [];
  function logic(supervisor?: SupervisorStrategy): ActorLogic<string[], Msg> {
    return defineActor<string[], Msg>({
      initial: () => [],
      supervisor,
      receive(state, msg, ctx) {
        calls.push(msg.type === 'add' ? `add:${msg.value}` : msg.type);
        switch (msg.type) {
          case 'add':
            return [...state, msg.value];
          case 'read':
            ctx.reply(state);
            return state;
          case 'boom':
            throw new Error(`boom ${msg.tag}`);
          case 'flaky': {
            const n = (attempts.get(msg.key) ?? 0) + 1;
            attempts.set(msg.key, n);
            if (n <= msg.failures) throw new Error(`flaky ${msg.key} attempt ${n}`);
            ctx.reply(n);
            return [...state, `flaky:${msg.key}`];
          }
          case 'async-boom':
            return Promise.reject(new Error('async boom'));
        }
      },
    });
  }
  return { logic, calls, attempts };
}

let system: ActorSystem | undefined;

afterEach(async () => {
  await system?.shutdown({ timeoutMs: 100 });
  system = undefined;
});

function start(logic: ActorLogic<string[], Msg>, options: Partial<SystemOptions> = {}) {
  const store = new MemoryStore();
  system = createSystem({ store, clock: new SimulatedClock(), actors: { a: logic }, ...options });
  const letters: DeadLetter[] = [];
  system.onDeadLetter((letter) => letters.push(letter));
  const ref: ActorRef = system.ref('a', '1');
  return { system, store, letters, ref };
}

describe('strategy()', () => {
  it('builds a fixed directive or a decision function with a retry limit', () => {
    const fixed = strategy('resume', 7);
    expect(fixed.decide(new Error('x'), null, 1)).toBe('resume');
    expect(fixed.maxRetries).toBe(7);
    const seen: Array<[unknown, number]> = [];
    const custom = strategy((error, msg, attempt): Directive => {
      seen.push([msg, attempt]);
      return error instanceof TypeError ? 'stop' : 'restart';
    });
    expect(custom.decide(new TypeError('t'), 'm', 2)).toBe('stop');
    expect(custom.decide(new Error('e'), 'n', 1)).toBe('restart');
    expect(custom.maxRetries).toBe(3);
    expect(seen).toEqual([
      ['m', 2],
      ['n', 1],
    ]);
  });
});

describe('resume', () => {
  it('keeps the state (even the part not yet durable), dead-letters the message and fails the ask', async () => {
    const t = tracker();
    const { system, store, letters, ref } = start(t.logic(strategy('resume')));
    await system.ask(ref, { type: 'add', value: 'durable' });
    system.tell(ref, { type: 'add', value: 'fresh' });
    const failed = rejectionCode(system.ask(ref, { type: 'boom', tag: 'r' }));
    await expect(failed).resolves.toBe('ACTOR_FAILED');
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['durable', 'fresh']);
    expect(letters).toEqual([
      {
        type: 'dead_letter',
        reason: 'resumed',
        kind: 'a',
        id: '1',
        msg: { type: 'boom', tag: 'r' },
        error: 'boom r',
      },
    ]);
    expect((await store.load('a', '1'))?.state).toEqual(['durable', 'fresh']);
    expect(t.calls.filter((c) => c === 'boom')).toHaveLength(1);
  });

  it('the failed ask carries the original error message', async () => {
    const t = tracker();
    const { system, ref } = start(t.logic(strategy('resume')));
    await expect(system.ask(ref, { type: 'boom', tag: 'why' })).rejects.toMatchObject({
      code: 'ACTOR_FAILED',
      message: 'boom why',
    });
  });

  it('applies to a rejected async receive too', async () => {
    const t = tracker();
    const { system, letters, ref } = start(t.logic(strategy('resume')));
    await system.ask(ref, { type: 'add', value: 'x' });
    await expect(rejectionCode(system.ask(ref, { type: 'async-boom' }))).resolves.toBe('ACTOR_FAILED');
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['x']);
    expect(letters.map((l) => [l.reason, l.error])).toEqual([['resumed', 'async boom']]);
  });

  it('the actor keeps serving the messages queued behind the failure', async () => {
    const t = tracker();
    const { system, ref } = start(t.logic(strategy('resume')));
    system.tell(ref, { type: 'add', value: '1' });
    system.tell(ref, { type: 'boom', tag: 'x' });
    system.tell(ref, { type: 'add', value: '2' });
    await system.idle();
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['1', '2']);
  });
});

describe('restart', () => {
  it('drops state that was not yet durable and retries the message', async () => {
    const t = tracker();
    const { system, letters, ref } = start(t.logic(strategy('restart', 3)));
    await system.ask(ref, { type: 'add', value: 'durable' });
    // Both land in one scheduler turn: 'lost' is applied in memory but not yet committed when 'flaky' throws.
    const lost = rejectionCode(system.ask(ref, { type: 'add', value: 'lost' }));
    const retried = system.ask(ref, { type: 'flaky', key: 'k', failures: 1 });
    await expect(lost).resolves.toBe('ACTOR_RESTARTED');
    await expect(retried).resolves.toBe(2);
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['durable', 'flaky:k']);
    expect(t.attempts.get('k')).toBe(2);
    expect(letters).toEqual([]);
  });

  it('reloads the durable state from the store, not from memory', async () => {
    const t = tracker();
    const { system, store, ref } = start(t.logic(strategy('restart', 3)));
    await system.ask(ref, { type: 'add', value: 'one' });
    expect((await store.load('a', '1'))?.state).toEqual(['one']);
    await expect(system.ask(ref, { type: 'flaky', key: 'k', failures: 2 })).resolves.toBe(3);
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['one', 'flaky:k']);
  });

  it('a message that keeps failing goes to dead letters as poison after maxRetries', async () => {
    const t = tracker();
    const { system, letters, ref } = start(t.logic(strategy('restart', 2)));
    await system.ask(ref, { type: 'add', value: 'before' });
    const failed = system.ask(ref, { type: 'boom', tag: 'p' });
    await expect(failed).rejects.toMatchObject({ code: 'ACTOR_FAILED', message: 'boom p' });
    // first try plus maxRetries retries
    expect(t.calls.filter((c) => c === 'boom')).toHaveLength(3);
    expect(letters).toEqual([
      {
        type: 'dead_letter',
        reason: 'poison',
        kind: 'a',
        id: '1',
        msg: { type: 'boom', tag: 'p' },
        error: 'boom p',
      },
    ]);
    // the actor goes on with the next message, state intact
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['before']);
  });

  it('decide() sees the attempt number growing with each retry', async () => {
    const t = tracker();
    const attempts: number[] = [];
    const logic = t.logic(
      strategy((_error, _msg, attempt) => {
        attempts.push(attempt);
        return 'restart';
      }, 3),
    );
    const { system, ref } = start(logic);
    await expect(rejectionCode(system.ask(ref, { type: 'boom', tag: 'n' }))).resolves.toBe('ACTOR_FAILED');
    expect(attempts).toEqual([1, 2, 3, 4]);
  });

  it('is the default directive, with three retries', async () => {
    const t = tracker();
    const { system, letters, ref } = start(t.logic());
    await expect(rejectionCode(system.ask(ref, { type: 'boom', tag: 'd' }))).resolves.toBe('ACTOR_FAILED');
    expect(t.calls.filter((c) => c === 'boom')).toHaveLength(4);
    expect(letters.map((l) => l.reason)).toEqual(['poison']);
  });

  it('messages queued behind a retried message keep their order', async () => {
    const t = tracker();
    const { system, ref } = start(t.logic(strategy('restart', 3)));
    await system.ask(ref, { type: 'read' });
    system.tell(ref, { type: 'flaky', key: 'k', failures: 2 });
    system.tell(ref, { type: 'add', value: 'after' });
    await system.idle();
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['flaky:k', 'after']);
  });
});

describe('restart while a write is in flight', () => {
  it('waits for the write, keeps what it made durable and then retries', async () => {
    const t = tracker();
    const store = new ControlledStore();
    const { system, ref } = start(t.logic(strategy('restart', 3)), { store });
    await system.ask(ref, { type: 'add', value: 'a' });
    store.hold();
    const x = track(system.ask(ref, { type: 'add', value: 'x' }));
    await settle();
    const retried = track(system.ask(ref, { type: 'flaky', key: 'k', failures: 1 }));
    await settle();
    expect(x.settled).toBe(false);
    expect(retried.settled).toBe(false);
    store.release();
    await system.idle();
    expect(x).toEqual({ settled: true, value: undefined });
    expect(retried).toEqual({ settled: true, value: 2 });
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['a', 'x', 'flaky:k']);
  });
});

describe('stop', () => {
  it('takes the actor out of memory and dead-letters the failed and queued messages', async () => {
    const t = tracker();
    const { system, letters, ref } = start(t.logic(strategy('stop')));
    await system.ask(ref, { type: 'add', value: 'durable' });
    const failed = system.ask(ref, { type: 'boom', tag: 's' });
    system.tell(ref, { type: 'add', value: 'queued-tell' });
    const queuedAsk = rejectionCode(system.ask(ref, { type: 'read' }));
    await expect(failed).rejects.toMatchObject({ code: 'ACTOR_FAILED', message: 'boom s' });
    await expect(queuedAsk).resolves.toBe('ACTOR_STOPPED');
    expect(system.isResident(ref)).toBe(false);
    expect(letters.map((l) => [l.reason, l.msg])).toEqual([
      ['stopped', { type: 'boom', tag: 's' }],
      ['stopped', { type: 'add', value: 'queued-tell' }],
      ['stopped', { type: 'read' }],
    ]);
    expect(t.calls).toEqual(['add:durable', 'boom']);
  });

  it('the next message reactivates the actor from its snapshot', async () => {
    const t = tracker();
    const { system, ref } = start(t.logic(strategy('stop')));
    await system.ask(ref, { type: 'add', value: 'durable' });
    await expect(rejectionCode(system.ask(ref, { type: 'boom', tag: 's' }))).resolves.toBe('ACTOR_FAILED');
    expect(system.isResident(ref)).toBe(false);
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['durable']);
    expect(system.isResident(ref)).toBe(true);
  });

  it('a write in flight when the actor stops is not lost: the next message sees it', async () => {
    const t = tracker();
    const store = new ControlledStore();
    const { system, ref } = start(t.logic(strategy('stop')), { store });
    await system.ask(ref, { type: 'add', value: 'a' });
    store.hold();
    const x = track(system.ask(ref, { type: 'add', value: 'x' }));
    await settle();
    const failed = rejectionCode(system.ask(ref, { type: 'boom', tag: 's' }));
    await settle();
    // sent after the stop, while the write of 'x' is still in flight
    const read = track(system.ask(ref, { type: 'read' }));
    await settle();
    expect(x.settled).toBe(false);
    store.release();
    await expect(failed).resolves.toBe('ACTOR_FAILED');
    await system.idle();
    expect(x).toEqual({ settled: true, value: undefined });
    expect(read).toEqual({ settled: true, value: ['a', 'x'] });
    await system.ask(ref, { type: 'add', value: 'y' });
    expect((await store.load('a', '1'))?.state).toEqual(['a', 'x', 'y']);
  });

  it('is used when decide() itself throws', async () => {
    const t = tracker();
    const logic = t.logic(
      strategy(() => {
        throw new Error('bad strategy');
      }),
    );
    const { system, letters, ref } = start(logic);
    await expect(rejectionCode(system.ask(ref, { type: 'boom', tag: 'x' }))).resolves.toBe('ACTOR_FAILED');
    expect(system.isResident(ref)).toBe(false);
    expect(letters.map((l) => l.reason)).toEqual(['stopped']);
  });
});

describe('escalate', () => {
  it('calls onEscalate with the error, ref and message, then stops the actor', async () => {
    const t = tracker();
    const escalated: Array<[string, ActorRef, unknown]> = [];
    const { system, letters, ref } = start(t.logic(strategy('escalate')), {
      onEscalate: (error, actor, msg) => escalated.push([(error as Error).message, actor, msg]),
    });
    await system.ask(ref, { type: 'add', value: 'durable' });
    system.tell(ref, { type: 'boom', tag: 'e' });
    system.tell(ref, { type: 'add', value: 'queued' });
    await system.idle();
    expect(escalated).toEqual([['boom e', { kind: 'a', id: '1' }, { type: 'boom', tag: 'e' }]]);
    expect(system.isResident(ref)).toBe(false);
    expect(letters.map((l) => [l.reason, l.msg])).toEqual([
      ['stopped', { type: 'boom', tag: 'e' }],
      ['stopped', { type: 'add', value: 'queued' }],
    ]);
    await expect(system.ask(ref, { type: 'read' })).resolves.toEqual(['durable']);
  });

  it('a throwing guardian does not break the system', async () => {
    const t = tracker();
    const { system, ref } = start(t.logic(strategy('escalate')), {
      onEscalate: () => {
        throw new Error('guardian down');
      },
    });
    await expect(rejectionCode(system.ask(ref, { type: 'boom', tag: 'g' }))).resolves.toBe('ACTOR_FAILED');
    expect(system.isResident(ref)).toBe(false);
    await expect(system.ask(ref, { type: 'add', value: 'ok' })).resolves.toBeUndefined();
  });
});
