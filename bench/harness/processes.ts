/**
 * Processes the harness runs beside itself: the built Mailroom server (`node dist/src/cli.js
 * serve`), a private redis-server on a free port, and bench-only peers. Each is started, waited
 * for (a listen line, or PING), and stopped gracefully or killed with -9 (the recovery scenario).
 * The harness never talks to a Redis it was not given: without a URL it starts its own.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';

/** The repository (or installed package) root: the nearest package.json named mailroom. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && /"name":\s*"mailroom"/.test(readFileSync(candidate, 'utf8'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the mailroom package root');
    dir = parent;
  }
}

/** node arguments to run a bench module: the compiled .js when running compiled, else the .ts via tsx. */
export function benchModuleArgs(relativeTs: string): string[] {
  const root = packageRoot();
  if (import.meta.url.endsWith('.ts')) return ['--import', 'tsx', join(root, relativeTs)];
  return [join(root, 'dist', relativeTs.replace(/\.ts$/, '.js'))];
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

export interface Managed {
  readonly pid: number;
  readonly child: ChildProcess;
  /** Last lines of output, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process has exited. */
  stop(graceMs?: number): Promise<void>;
  /** kill -9, resolves when it is gone. */
  kill9(): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Spawns `command args` and resolves once `ready(line)` returns a value for a stdout line, with
 * that value. Rejects with the output's tail if the process exits or `timeoutMs` passes first.
 */
export function spawnUntil<T>(
  command: string,
  args: string[],
  ready: (line: string) => T | undefined,
  options: { env?: NodeJS.ProcessEnv; timeoutMs?: number; label: string },
): Promise<{ managed: Managed; value: T }> {
  const child = spawn(command, args, {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const keep = (line: string) => {
    lines.push(line);
    if (lines.length > 40) lines.shift();
  };
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const managed: Managed = {
    pid: child.pid ?? -1,
    child,
    exited,
    tail: () => lines.join('\n'),
    stop: async (graceMs = 5_000) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    kill9: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
  return new Promise((resolve, reject) => {
    let found = false;
    let buffer = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${options.label} did not start within ${options.timeoutMs ?? 15_000} ms:\n${managed.tail()}`,
        ),
      );
    }, options.timeoutMs ?? 15_000);
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        keep(line);
        if (!found) {
          const value = ready(line);
          if (value !== undefined) {
            found = true;
            clearTimeout(timer);
            resolve({ managed, value });
          }
        }
        nl = buffer.indexOf('\n');
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line) keep(line);
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`${options.label} could not start: ${error.message}`));
    });
    void exited.then(({ code, signal }) => {
      if (found) return;
      clearTimeout(timer);
      reject(new Error(`${options.label} exited at start (${signal ?? code}):\n${managed.tail()}`));
    });
  });
}

export interface MailroomProcess extends Managed {
  readonly url: string;
  readonly port: number;
}

export interface MailroomStart {
  redisUrl?: string | undefined;
  redisPrefix?: string | undefined;
  /** 0 (default) lets the server pick and tell; recovery restarts on the port it had. */
  port?: number;
  /** A config file for `serve --config` (mixed-payload turns the payload pool off with one). */
  configPath?: string | undefined;
}

/** Runs the built server the way an operator does and waits for its "listening on" log line. */
export async function startMailroom(options: MailroomStart = {}): Promise<MailroomProcess> {
  const root = packageRoot();
  const cli = join(root, 'dist', 'src', 'cli.js');
  if (!existsSync(cli)) throw new Error(`${cli} is missing: run \`npm run build\` first`);
  const args = [
    ...SERVER_NODE_FLAGS,
    cli,
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    '--log-level',
    'info',
  ];
  if (options.redisUrl) args.push('--redis-url', options.redisUrl);
  if (options.redisPrefix) args.push('--redis-prefix', options.redisPrefix);
  if (options.configPath) args.push('--config', options.configPath);
  // The server gets the defaults, whatever this shell exports (a stray API_KEYS would fail every request).
  const { REDIS_URL, REDIS_PREFIX, API_KEYS, MAILROOM_CONFIG, PORT, HOST, LOG_LEVEL, ...env } = process.env;
  const { managed, value } = await spawnUntil(
    process.execPath,
    args,
    (line) => {
      if (!line.startsWith('{')) return undefined;
      try {
        const entry = JSON.parse(line) as { url?: string; port?: number; msg?: string };
        if (entry.url && typeof entry.port === 'number' && entry.msg?.includes('listening')) {
          return { url: entry.url, port: entry.port };
        }
      } catch {}
      return undefined;
    },
    { env, label: 'mailroom serve', timeoutMs: 20_000 },
  );
  return Object.assign(managed, value);
}

export interface RedisProcess {
  readonly url: string;
  readonly pid: number | undefined;
  /** Stops the server if the harness started it. */
  stop(): Promise<void>;
}

/** A Redis the harness may use: the URL it was given, or a private redis-server it starts now. */
export async function openRedis(given: string | undefined): Promise<RedisProcess> {
  if (given && given !== 'private') return { url: given, pid: undefined, stop: async () => {} };
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  if (probe.error) {
    throw new Error(
      '--redis without a URL starts a private redis-server, but `redis-server` is not on PATH. ' +
        'Install it (`apt-get install redis-server`) or pass --redis redis://host:port.',
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-bench-redis-'));
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ];
  const { managed } = await spawnUntil(
    'redis-server',
    args,
    (line) => (/Ready to accept connections/.test(line) ? true : undefined),
    {
      label: 'redis-server',
    },
  );
  return {
    url: `redis://127.0.0.1:${port}`,
    pid: managed.pid,
    stop: async () => {
      await managed.stop(3_000);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** redis-server's version, from INFO, for the report. */
export async function redisVersion(url: string): Promise<string> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    return /redis_version:(\S+)/.exec(await client.info('server'))?.[1] ?? 'unknown';
  } finally {
    client.disconnect();
  }
}

/** The pid of the redis-server at `url`, when it is on this machine (INFO process_id). */
export async function redisPid(url: string): Promise<number | undefined> {
  const { Redis } = await import('ioredis');
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const pid = Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]);
    const host = new URL(url).hostname;
    return Number.isFinite(pid) && ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host)
      ? pid
      : undefined;
  } finally {
    client.disconnect();
  }
}
