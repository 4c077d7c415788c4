/**
 * Runs the built server the way a user does (`node dist/src/cli.js serve`) and checks what the
 * README promises: health, readiness, the error shape, request ids and a clean SIGTERM.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../global-setup.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

let child: ChildProcess;
let base: string;
let stdout = '';
let stderr = '';
let exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`server exited early (${child.exitCode}): ${stderr}${stdout}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`server did not become healthy: ${stderr}${stdout}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  // A no-op under `npm test` (which builds first); keeps `vitest run test/e2e` honest on its own.
  execFileSync('node', [join(root, 'scripts', 'build-if-needed.mjs')], { cwd: root, stdio: 'inherit' });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // The server must run with the embedded store and defaults, whatever the test runner's env says.
  const { REDIS_URL, API_KEYS, MAILROOM_CONFIG, PORT, HOST, LOG_LEVEL, ...env } = process.env;
  child = spawn(process.execPath, [join(root, 'dist', 'src', 'cli.js'), 'serve', '--port', String(port)], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (chunk) => {
    stdout += chunk.toString();
  });
  child.stderr?.on('data', (chunk) => {
    stderr += chunk.toString();
  });
  exit = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  await waitForHealth(base, 15_000);
});

afterAll(() => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

describe('mailroom serve (built)', () => {
  it('answers /health', async () => {
    const res = await fetch(`${base}/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/application\/json/);
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('is ready with the memory store', async () => {
    const res = await fetch(`${base}/health/ready`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', store: 'memory' });
  });

  it('answers unknown routes with the registry error shape', async () => {
    const res = await fetch(`${base}/no/such/route`);
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('NOT_FOUND');
    expect(typeof body.error.message).toBe('string');
  });

  it('answers a wrong method with 405 and Allow', async () => {
    const res = await fetch(`${base}/health`, { method: 'DELETE' });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET');
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('METHOD_NOT_ALLOWED');
  });

  it('echoes x-request-id, or makes one up', async () => {
    const echoed = await fetch(`${base}/health`, { headers: { 'x-request-id': 'req-e2e-42' } });
    expect(echoed.headers.get('x-request-id')).toBe('req-e2e-42');
    const missing = await fetch(`${base}/nowhere`);
    expect(missing.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs JSON lines saying where it listens and that the store is not durable', () => {
    const lines = stdout
      .split('\n')
      .filter((line) => line.trim().length > 0)
      .map((line) => JSON.parse(line) as { level: string; msg: string });
    expect(lines.some((l) => l.msg.includes(base))).toBe(true);
    expect(lines.some((l) => l.level === 'warn' && /not durable/.test(l.msg))).toBe(true);
  });

  it('exits 0 within 5 s of SIGTERM', async () => {
    const started = Date.now();
    child.kill('SIGTERM');
    const result = await Promise.race([
      exit,
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no exit within 5 s')), 5_000)),
    ]);
    expect(result).toEqual({ code: 0, signal: null });
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
