/**
 * A real server for HTTP tests: `startServer` in-process on port 0 with the memory store, the
 * default job types and whatever file config and API keys a test asks for, plus small fetch helpers.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtInConfigPath, loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { type RunningServer, startServer } from '../../src/main.js';

export interface TestServer {
  base: string;
  server: RunningServer;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  apiKeys?: string;
  /** Merged over the built-in config file (job types stay). */
  file?: Record<string, unknown>;
}

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'mailroom-http-'));
  const configPath = join(dir, 'config.json');
  const builtIn = JSON.parse(readFileSync(builtInConfigPath(), 'utf8')) as Record<string, unknown>;
  writeFileSync(configPath, JSON.stringify({ ...builtIn, ...options.file }));
  const config = loadConfig({
    env: {},
    overrides: { port: 0, host: '127.0.0.1', configPath, logLevel: 'silent', apiKeys: options.apiKeys },
  });
  const server = await startServer(config, {
    handleSignals: false,
    logger: createLogger({ level: 'silent' }),
  });
  return {
    base: server.url,
    server,
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// biome-ignore lint/suspicious/noExplicitAny: tests read reply bodies field by field; the assertions are the type checks.
export type Body = any;

export interface JsonResponse<T = Body> {
  status: number;
  headers: Headers;
  body: T;
}

/** fetch with a JSON body (objects are serialized; strings are sent as they are) and a parsed reply. */
export async function call<T = Body>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<JsonResponse<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/json';
  }
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text.length > 0 ? JSON.parse(text) : undefined };
}

/** Polls a job until `done(job)` holds (or throws after `timeoutMs`). */
export async function waitForJob(
  base: string,
  id: string,
  done: (job: Body) => boolean,
  headers: Record<string, string> = {},
  timeoutMs = 5_000,
): Promise<Body> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(base, 'GET', `/api/v1/jobs/${id}`, undefined, headers);
    if (res.status === 200 && done(res.body)) return res.body;
    if (Date.now() > deadline) throw new Error(`job ${id} never got there: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function waitForWorkflow(
  base: string,
  id: string,
  done: (wf: Body) => boolean,
  timeoutMs = 5_000,
): Promise<Body> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await call(base, 'GET', `/api/v1/workflows/${id}`);
    if (res.status === 200 && done(res.body)) return res.body;
    if (Date.now() > deadline) throw new Error(`workflow ${id} never got there: ${JSON.stringify(res.body)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export const terminal = (x: { status: string }) => ['completed', 'failed', 'cancelled'].includes(x.status);

/**
 * Writes raw bytes to the server and resolves with everything read until the socket closes, or
 * `settleMs` after the first response bytes arrive, or `timeoutMs` in total.
 */
export function raw(
  base: string,
  data: string | Buffer | Array<string | Buffer>,
  options: { settleMs?: number; timeoutMs?: number } = {},
): Promise<{ text: string; closed: boolean; elapsedMs: number }> {
  const { hostname, port } = new URL(base);
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname);
    let text = '';
    let finished = false;
    const finish = (closed: boolean) => {
      if (finished) return;
      finished = true;
      clearTimeout(overall);
      socket.destroy();
      resolve({ text, closed, elapsedMs: Date.now() - started });
    };
    const overall = setTimeout(() => finish(false), options.timeoutMs ?? 2_000);
    socket.on('data', (chunk) => {
      const first = text.length === 0;
      text += chunk.toString('latin1');
      if (first) setTimeout(() => finish(false), options.settleMs ?? 100);
    });
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    for (const part of Array.isArray(data) ? data : [data]) socket.write(part);
  });
}
