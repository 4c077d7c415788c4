/**
 * Redis helpers for integration tests: unique key prefixes on the run's shared private server,
 * and throwaway servers that a test may stop and restart without disturbing other tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, redisServerArgs, waitForRedis } from '../global-setup.js';

export function uniquePrefix(label = 'test'): string {
  return `${label}:${randomUUID().slice(0, 8)}:`;
}

export interface ThrowawayRedis {
  url: string;
  port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Freezes the server (SIGSTOP): commands sent meanwhile time out, then run on `resume`. */
  pause(): void;
  resume(): void;
  dispose(): Promise<void>;
}

/** A private redis-server for tests that break Redis on purpose. */
export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-redis-'));
  let child: ChildProcess | null = null;
  const start = async () => {
    child = spawn('redis-server', redisServerArgs(port, dir), { stdio: 'ignore' });
    await waitForRedis(port);
  };
  const stop = async () => {
    const running = child;
    child = null;
    if (!running || running.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      running.once('exit', () => resolve());
      running.kill('SIGKILL');
    });
  };
  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    stop,
    pause: () => {
      (child as ChildProcess | null)?.kill('SIGSTOP');
    },
    resume: () => {
      (child as ChildProcess | null)?.kill('SIGCONT');
    },
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
