/**
 * A WebSocket that comes back: opens, and after an unexpected close reconnects with exponential
 * backoff and jitter, telling its owner each time it is open again so the owner can restore its
 * session (resubscribe from cursors, register again). JSON text frames, or MessagePack binary
 * frames on the `mailroom.msgpack` subprotocol. Both the client and the worker SDK build on it.
 */
import { Packr, Unpackr } from 'msgpackr';
import WebSocket from 'ws';
import { ERROR_CODES } from '../errors.js';
import type { WireError } from '../schemas/ws.js';
import { MailroomApiError } from './http-client.js';

export interface ConnectionOptions {
  /** Server base URL (`http://…`, `https://…`, `ws://…` or `wss://…`); the path is the endpoint's. */
  url: string;
  apiKey?: string | undefined;
  /** Speak MessagePack instead of JSON. */
  msgpack?: boolean | undefined;
  /** First reconnect delay; doubles up to `maxReconnectDelayMs`. Default 100 ms. */
  reconnectDelayMs?: number | undefined;
  maxReconnectDelayMs?: number | undefined;
  /** Off: a lost connection stays lost (the owner sees `onClose` with `final: true`). */
  reconnect?: boolean | undefined;
}

export interface ConnectionEvents {
  /** Open (again): restore the session here. `first` is true only for the first connect. */
  onOpen(first: boolean): void;
  onFrame(frame: Record<string, unknown>): void;
  /** Closed; `final` when no reconnect follows (closed by the owner, or reconnecting is off). */
  onClose(code: number, reason: string, final: boolean): void;
}

const packr = new Packr({ useRecords: false });
const unpackr = new Unpackr({ useRecords: false });

export class ReconnectingSocket {
  private socket: WebSocket | null = null;
  private closedByOwner = false;
  private attempts = 0;
  private opened = false;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly endpoint: string,
    private readonly options: ConnectionOptions,
    private readonly events: ConnectionEvents,
  ) {}

  /** Resolves on the first open; rejects if the first attempt fails (wrong URL, refused key). */
  start(): Promise<void> {
    return new Promise((resolve, reject) => this.open(resolve, reject));
  }

  get isOpen(): boolean {
    return this.socket?.readyState === WebSocket.OPEN;
  }

  /** False when not open: the frame is not queued (the owner restores state on reopen instead). */
  send(frame: unknown): boolean {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return false;
    socket.send(this.options.msgpack ? packr.pack(frame) : JSON.stringify(frame));
    return true;
  }

  close(): void {
    this.closedByOwner = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000, 'client closing');
  }

  private open(resolve?: () => void, reject?: (error: Error) => void): void {
    const protocols = this.options.msgpack ? ['mailroom.msgpack'] : [];
    const headers: Record<string, string> = this.options.apiKey ? { 'x-api-key': this.options.apiKey } : {};
    const socket = new WebSocket(endpointUrl(this.options.url, this.endpoint), protocols, { headers });
    this.socket = socket;
    let failedBeforeOpen: Error | null = null;
    socket.on('open', () => {
      this.attempts = 0;
      const first = !this.opened;
      this.opened = true;
      resolve?.();
      this.events.onOpen(first);
    });
    socket.on('unexpected-response', (_request, response) => {
      failedBeforeOpen = new Error(`the server refused the WebSocket upgrade: HTTP ${response.statusCode}`);
      socket.terminate();
    });
    socket.on('error', (error) => {
      failedBeforeOpen ??= error;
    });
    socket.on('message', (data, isBinary) => {
      let frame: unknown;
      try {
        frame = isBinary ? unpackr.unpack(data as Buffer) : JSON.parse(data.toString());
      } catch {
        return;
      }
      if (frame !== null && typeof frame === 'object') this.events.onFrame(frame as Record<string, unknown>);
    });
    socket.on('close', (code, reason) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (!this.opened && reject) {
        reject(failedBeforeOpen ?? new Error(`connection closed before it opened (${code})`));
        return;
      }
      const final = this.closedByOwner || this.options.reconnect === false;
      this.events.onClose(code, reason.toString(), final);
      if (!final) this.scheduleReconnect();
    });
  }

  private scheduleReconnect(): void {
    const base = this.options.reconnectDelayMs ?? 100;
    const max = this.options.maxReconnectDelayMs ?? 5_000;
    const delay = Math.min(max, base * 2 ** this.attempts);
    this.attempts++;
    // Full jitter: many clients dropped at once by a restart do not all return in the same instant.
    this.timer = setTimeout(() => {
      this.timer = null;
      if (!this.closedByOwner) this.open();
    }, Math.random() * delay);
  }
}

function endpointUrl(base: string, endpoint: string): string {
  const url = new URL(base);
  if (url.protocol === 'http:') url.protocol = 'ws:';
  if (url.protocol === 'https:') url.protocol = 'wss:';
  url.pathname = url.pathname.replace(/\/+$/, '') + endpoint;
  return url.toString();
}

/** An `error` frame as the same error type the HTTP client throws, with the code's HTTP status. */
export function apiError(error: WireError): MailroomApiError {
  const status = (ERROR_CODES as Record<string, { status: number }>)[error.code]?.status ?? 0;
  return new MailroomApiError(status, error, null, null);
}
