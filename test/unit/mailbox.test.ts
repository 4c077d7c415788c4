import { describe, expect, it } from 'vitest';
import { Mailbox, Queue } from '../../src/runtime/mailbox.js';

function drainByShift<T>(queue: Queue<T>): T[] {
  const out: T[] = [];
  for (let item = queue.shift(); item !== undefined; item = queue.shift()) out.push(item);
  return out;
}

describe('Queue', () => {
  it('is FIFO', () => {
    const queue = new Queue<number>();
    queue.push(1);
    queue.push(2);
    queue.push(3);
    expect(queue.length).toBe(3);
    expect(drainByShift(queue)).toEqual([1, 2, 3]);
    expect(queue.length).toBe(0);
  });

  it('returns undefined when empty', () => {
    const queue = new Queue<string>();
    expect(queue.shift()).toBeUndefined();
    queue.push('a');
    queue.shift();
    expect(queue.shift()).toBeUndefined();
    expect(queue.length).toBe(0);
  });

  it('unshift puts an item at the front, both before and after shifts', () => {
    const queue = new Queue<string>();
    queue.push('b');
    queue.unshift('a');
    expect(queue.length).toBe(2);
    queue.push('c');
    expect(queue.shift()).toBe('a');
    // head > 0 now: the free slot before the head is reused
    queue.unshift('z');
    expect(queue.length).toBe(3);
    expect(drainByShift(queue)).toEqual(['z', 'b', 'c']);
  });

  it('keeps order across compaction with more than 2048 items', () => {
    const queue = new Queue<number>();
    const total = 5000;
    for (let i = 0; i < total; i++) queue.push(i);
    const firstHalf: number[] = [];
    for (let i = 0; i < 3000; i++) firstHalf.push(queue.shift()!);
    expect(firstHalf).toEqual(Array.from({ length: 3000 }, (_, i) => i));
    expect(queue.length).toBe(2000);
    // interleave pushes and unshifts after compaction happened
    queue.unshift(-1);
    for (let i = total; i < total + 1000; i++) queue.push(i);
    expect(queue.length).toBe(3001);
    const rest = drainByShift(queue);
    expect(rest).toEqual([-1, ...Array.from({ length: 3000 }, (_, i) => 3000 + i)]);
  });

  it('stays FIFO when pushes and shifts interleave over many compactions', () => {
    const queue = new Queue<number>();
    const seen: number[] = [];
    let next = 0;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 700; i++) queue.push(next++);
      for (let i = 0; i < 500; i++) seen.push(queue.shift()!);
    }
    seen.push(...drainByShift(queue));
    expect(seen).toEqual(Array.from({ length: next }, (_, i) => i));
  });

  it('drain returns everything left, oldest first, and empties the queue', () => {
    const queue = new Queue<number>();
    for (let i = 0; i < 10; i++) queue.push(i);
    queue.shift();
    queue.shift();
    queue.unshift(1);
    expect(queue.drain()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(queue.length).toBe(0);
    expect(queue.shift()).toBeUndefined();
    queue.push(42);
    expect(queue.shift()).toBe(42);
  });
});

describe('Mailbox', () => {
  it('serves system messages before user messages', () => {
    const mailbox = new Mailbox<string>();
    mailbox.post('u1');
    mailbox.post('u2');
    mailbox.postSystem('s1');
    mailbox.post('u3');
    mailbox.postSystem('s2');
    expect(mailbox.size).toBe(5);
    const order: string[] = [];
    for (let m = mailbox.next(); m !== undefined; m = mailbox.next()) order.push(m);
    expect(order).toEqual(['s1', 's2', 'u1', 'u2', 'u3']);
    expect(mailbox.size).toBe(0);
  });

  it('a system message posted mid-way jumps the remaining user messages', () => {
    const mailbox = new Mailbox<string>();
    mailbox.post('u1');
    mailbox.post('u2');
    expect(mailbox.next()).toBe('u1');
    mailbox.postSystem('s1');
    expect(mailbox.next()).toBe('s1');
    expect(mailbox.next()).toBe('u2');
    expect(mailbox.next()).toBeUndefined();
  });

  it('requeueFront puts a user message back first in the user lane', () => {
    const mailbox = new Mailbox<string>();
    mailbox.post('u1');
    mailbox.post('u2');
    const first = mailbox.next()!;
    mailbox.requeueFront(first);
    expect(mailbox.size).toBe(2);
    expect(mailbox.next()).toBe('u1');
    expect(mailbox.next()).toBe('u2');
  });

  it('requeueFront still yields to system messages', () => {
    const mailbox = new Mailbox<string>();
    mailbox.post('u1');
    mailbox.requeueFront(mailbox.next()!);
    mailbox.postSystem('s1');
    expect(mailbox.next()).toBe('s1');
    expect(mailbox.next()).toBe('u1');
  });

  it('drain hands back system then user messages and empties both lanes', () => {
    const mailbox = new Mailbox<string>();
    mailbox.post('u1');
    mailbox.postSystem('s1');
    mailbox.post('u2');
    expect(mailbox.drain()).toEqual(['s1', 'u1', 'u2']);
    expect(mailbox.size).toBe(0);
    expect(mailbox.next()).toBeUndefined();
  });
});
