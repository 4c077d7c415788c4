/**
 * comlink speaks the browser's `postMessage`/`addEventListener` interface; Node's worker_threads
 * ports speak `on('message')`. This is comlink's own node adapter (dist/esm/node-adapter), kept
 * here because that file ships without types NodeNext resolution can find.
 */
import type { Endpoint } from 'comlink';

interface NodePort {
  postMessage(message: unknown, transfer?: readonly unknown[]): void;
  on(event: 'message', listener: (data: unknown) => void): unknown;
  off(event: 'message', listener: (data: unknown) => void): unknown;
  start?: () => void;
}

type Listener = Parameters<Endpoint['addEventListener']>[1];
type Event = Parameters<Extract<Listener, (...args: never[]) => unknown>>[0];

export function nodeEndpoint(port: NodePort): Endpoint {
  const listeners = new WeakMap<Listener, (data: unknown) => void>();
  return {
    postMessage: (message, transfer) => port.postMessage(message, transfer),
    addEventListener: (_type, handler) => {
      const listener = (data: unknown) => {
        const event = { data } as Event;
        if ('handleEvent' in handler) handler.handleEvent(event);
        else handler(event);
      };
      port.on('message', listener);
      listeners.set(handler, listener);
    },
    removeEventListener: (_type, handler) => {
      const listener = listeners.get(handler);
      if (!listener) return;
      port.off('message', listener);
      listeners.delete(handler);
    },
    ...(port.start ? { start: port.start.bind(port) } : {}),
  };
}
