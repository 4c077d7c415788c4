/**
 * A WebSocket conversation for tests, on the independent `ws` package: send frames, wait for the
 * next frame matching a predicate, and keep everything received (in order) for later assertions.
 */
import { type AddressInfo, connect, createServer, type Server, type Socket } from 'node:net';
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';
import type { Body } from '../http/support.js';

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

export interface ConnectOptions {
  protocols?: string[];
  headers?: Record<string, string>;
}

interface Waiter {
  match: (frame: Body) => boolean;
  resolve: (frame: Body) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class Conversation {
  /** Every frame received, in order. */
  readonly frames: Body[] = [];
  closed: { code: number; reason: string } | null = null;
  private readonly waiters = new Set<Waiter>();
  /** Frames received and not yet handed out by `next`, in order. */
  private readonly inbox: Body[] = [];
  private closeWaiters: Array<(c: { code: number; reason: string }) => void> = [];

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      const frame = isBinary ? unpackr.unpack(data as Buffer) : JSON.parse(data.toString());
      this.frames.push(frame);
      for (const waiter of this.waiters) {
        if (waiter.match(frame)) {
          this.waiters.delete(waiter);
          clearTimeout(waiter.timer);
          waiter.resolve(frame);
          return;
        }
      }
      this.inbox.push(frame);
    });
    socket.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      for (const waiter of this.closeWaiters) waiter(this.closed);
      for (const waiter of this.waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new Error(`socket closed (${code} ${reason.toString()}) while waiting`));
      }
      this.waiters.clear();
    });
  }

  static open(url: string, options: ConnectOptions = {}): Promise<Conversation> {
    const socket = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new Conversation(socket)));
      socket.once('unexpected-response', (_req, res) =>
        reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })),
      );
      socket.once('error', reject);
    });
  }

  get protocol(): string {
    return this.socket.protocol;
  }

  send(frame: unknown): void {
    if (this.socket.protocol === 'mailroom.msgpack') this.socket.send(packr.pack(frame));
    else this.socket.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.socket.send(data, { binary });
  }

  /** The first frame from now on (or already received and not yet matched) that matches. */
  next(match: (frame: Body) => boolean = () => true, timeoutMs = 5_000): Promise<Body> {
    const index = this.inbox.findIndex(match);
    if (index >= 0) return Promise.resolve(this.inbox.splice(index, 1)[0]);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        match,
        resolve,
        reject,
        timer: setTimeout(() => {
          this.waiters.delete(waiter);
          reject(
            new Error(
              `no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`,
            ),
          );
        }, timeoutMs),
      };
      this.waiters.add(waiter);
    });
  }

  /** Sends a request frame and waits for the frame answering its id. */
  async request(frame: { id: string | number } & Record<string, unknown>, timeoutMs?: number): Promise<Body> {
    this.send(frame);
    return this.next((reply) => reply.id === frame.id && reply.op !== 'event', timeoutMs);
  }

  events(): Body[] {
    return this.frames.filter((frame) => frame.op === 'event');
  }

  whenClosed(timeoutMs = 5_000): Promise<{ code: number; reason: string }> {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
      this.closeWaiters.push((closed) => {
        clearTimeout(timer);
        resolve(closed);
      });
    });
  }

  close(): void {
    this.socket.close();
  }

  terminate(): void {
    this.socket.terminate();
  }
}

export function wsUrl(base: string, path: string): string {
  return base.replace(/^http/, 'ws') + path;
}

/** Polls `check` until it returns a value that is not undefined. */
export async function eventually<T>(
  check: () => T | undefined | Promise<T | undefined>,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A TCP proxy in front of the server whose connections a test can cut, as a flaky network would. */
export class CuttableProxy {
  private constructor(
    private readonly server: Server,
    private readonly sockets: Set<Socket>,
    readonly url: string,
  ) {}

  static async start(targetBase: string): Promise<CuttableProxy> {
    const target = new URL(targetBase);
    const sockets = new Set<Socket>();
    const server = createServer((client) => {
      const upstream = connect(Number(target.port), target.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.on('error', () => socket.destroy());
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return new CuttableProxy(server, sockets, `http://127.0.0.1:${port}`);
  }

  /** Drops every connection at once, without a close handshake. */
  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
