/**
 * Prometheus metrics of the two WebSocket endpoints, registered on the server's registry: open
 * connections (read at scrape time), frames received, and sockets closed for cause (slow consumer,
 * missed heartbeats), so an operator sees clients falling behind before they complain.
 */
import { Counter, Gauge, type Registry } from 'prom-client';

export type Endpoint = 'client' | 'worker';
export type CloseCause = 'slow_consumer' | 'missed_heartbeats';

export class WebSocketMetrics {
  private readonly frames: Counter<'endpoint'>;
  private readonly closes: Counter<'endpoint' | 'cause'>;

  constructor(registry: Registry, counts: () => { clients: number; workers: number }) {
    new Gauge({
      name: 'mailroom_ws_connections',
      help: 'Open WebSocket connections by endpoint (client: /ws, worker: /ws/worker)',
      labelNames: ['endpoint'] as const,
      registers: [registry],
      collect() {
        const { clients, workers } = counts();
        this.set({ endpoint: 'client' }, clients);
        this.set({ endpoint: 'worker' }, workers);
      },
    });
    this.frames = new Counter({
      name: 'mailroom_ws_frames_received_total',
      help: 'WebSocket frames received, by endpoint',
      labelNames: ['endpoint'] as const,
      registers: [registry],
    });
    this.closes = new Counter({
      name: 'mailroom_ws_closed_total',
      help: 'WebSocket connections the server closed for cause (slow_consumer: 1008, missed_heartbeats: 4000)',
      labelNames: ['endpoint', 'cause'] as const,
      registers: [registry],
    });
  }

  frame(endpoint: Endpoint): void {
    this.frames.inc({ endpoint });
  }

  closed(endpoint: Endpoint, cause: CloseCause): void {
    this.closes.inc({ endpoint, cause });
  }
}
