/**
 * Gives every test run a Redis: REDIS_URL when set, otherwise a private `redis-server` on a free
 * port with persistence off and its own directory. Tests read it with `inject('redisUrl')`; tests
 * that stop and restart Redis use `redisPort` and `redisDir` (only when `redisManaged` is true).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
    /** Port of the Redis in use (parsed from REDIS_URL when one was given). */
    redisPort: number;
    /** Working directory of the private redis-server; empty when REDIS_URL was given. */
    redisDir: string;
    /** True when this setup spawned redis-server, so tests may stop and restart it. */
    redisManaged: boolean;
  }
}

/** The arguments a test needs to restart the private server exactly as it was started. */
export function redisServerArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir];
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves when a PING on `port` answers PONG; rejects after `timeoutMs`. */
export async function waitForRedis(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) done(reply.startsWith('+PONG'));
    });
  });
}

function assertRedisServerInstalled(): void {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error(
      'Tests need Redis: `redis-server` was not found on PATH and REDIS_URL is not set. ' +
        'Install it with `sudo apt-get install redis-server` (or set REDIS_URL=redis://host:port).',
    );
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.REDIS_URL;
  if (external) {
    project.provide('redisUrl', external);
    project.provide('redisPort', Number(new URL(external).port || 6379));
    project.provide('redisDir', '');
    project.provide('redisManaged', false);
    return async () => {};
  }

  assertRedisServerInstalled();
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-redis-'));
  const child: ChildProcess = spawn('redis-server', redisServerArgs(port, dir), {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await Promise.race([
      waitForRedis(port),
      exited.then(() => {
        throw new Error(`redis-server exited at start (code ${child.exitCode}): ${stderr.trim()}`);
      }),
    ]);
  } catch (error) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }

  project.provide('redisUrl', `redis://127.0.0.1:${port}`);
  project.provide('redisPort', port);
  project.provide('redisDir', dir);
  project.provide('redisManaged', true);

  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(killer);
    }
    rmSync(dir, { recursive: true, force: true });
  };
}
