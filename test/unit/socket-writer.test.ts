import type { WebSocket } from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import type { SocketData } from '../../src/transport/ws/handshake.js';
import { SocketWriter } from '../../src/transport/ws/socket-writer.js';

/**
 * A uWS socket that buffers what it is sent and flushes only when told, calling no drain handler:
 * the state uWS was seen in, holding bytes it neither sent nor reported drained.
 */
class StuckSocket {
  buffered = 0;
  sent: string[] = [];
  pings = 0;
  /** Whether the next write makes the socket flush (as a write does in uWS). */
  flushOnWrite = false;
  readonly data = { closed: false } as SocketData;

  getUserData(): SocketData {
    return this.data;
  }
  getBufferedAmount(): number {
    return this.buffered;
  }
  cork(fn: () => void): void {
    fn();
  }
  send(frame: string): number {
    this.sent.push(frame);
    this.buffered += frame.length;
    if (this.flushOnWrite) this.buffered = 0;
    return 1;
  }
  ping(): number {
    this.pings++;
    if (this.flushOnWrite) this.buffered = 0;
    return 1;
  }
  end(): void {}
}

function writerFor(socket: StuckSocket, limit: number): SocketWriter {
  return new SocketWriter(socket as unknown as WebSocket<SocketData>, limit);
}

describe('SocketWriter', () => {
  it('queues past the limit and sends the backlog on drain', () => {
    const socket = new StuckSocket();
    const writer = writerFor(socket, 10);
    writer.beginReplay();
    for (const frame of ['aaaaaaaaaaaa', 'b', 'c']) expect(writer.send(frame)).toBe(true);
    expect(socket.sent).toEqual(['aaaaaaaaaaaa']);
    socket.buffered = 0;
    writer.onDrain();
    expect(socket.sent).toEqual(['aaaaaaaaaaaa', 'b', 'c']);
    writer.endReplay();
    writer.onClosed();
  });

  it('moves a backlog along when no drain comes', async () => {
    const socket = new StuckSocket();
    const writer = writerFor(socket, 10);
    writer.beginReplay();
    for (const frame of ['aaaaaaaaaaaa', 'b', 'c']) writer.send(frame);
    writer.endReplay();
    // Nothing drains by itself: the next write is what makes the socket flush.
    socket.flushOnWrite = true;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(socket.pings).toBe(1);
    expect(socket.sent).toEqual(['aaaaaaaaaaaa', 'b', 'c']);
    writer.onClosed();
  });

  it('a slow consumer is still closed: the check does not push past the limit', async () => {
    const socket = new StuckSocket();
    const writer = writerFor(socket, 10);
    expect(writer.send('aaaaaaaaaaaa')).toBe(true);
    expect(writer.send('b')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The client reads nothing: pings go out, frames stay queued.
    expect(socket.pings).toBeGreaterThan(0);
    expect(socket.sent).toEqual(['aaaaaaaaaaaa']);
    expect(writer.send('cccccccccc')).toBe(false);
    expect(writer.closed).toBe(true);
  });
});
