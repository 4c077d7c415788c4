/**
 * Helpers of the WebSocket scenarios: a set of /ws client connections, and the remote-job body
 * the e2e scenario submits.
 */
import { WsClient } from '../../src/client/index.js';

export async function openWsClients(
  url: string,
  count: number,
  apiKey: string | undefined,
): Promise<WsClient[]> {
  const clients: WsClient[] = [];
  try {
    // A few at a time: hundreds of simultaneous upgrades would measure the handshake, not the run.
    for (let i = 0; i < count; i += 16) {
      const batch = Array.from({ length: Math.min(16, count - i) }, () =>
        WsClient.connect({ url, apiKey, reconnect: false }),
      );
      clients.push(...(await Promise.all(batch)));
    }
  } catch (error) {
    for (const c of clients) c.close();
    throw error;
  }
  return clients;
}

export function closeAll(clients: WsClient[]): void {
  for (const c of clients) c.close();
}
