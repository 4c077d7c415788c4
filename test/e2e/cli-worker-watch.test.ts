/**
 * The quickstart loop through the built CLI: `mailroom watch` follows a job that `mailroom worker`
 * (the example remote worker) runs, each a real process; the server runs in-process on port 0.
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { call, startTestServer, type TestServer, waitForJob } from '../http/support.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'src', 'cli.js');

let t: TestServer;
const children: ChildProcessWithoutNullStreams[] = [];

beforeAll(async () => {
  execFileSync('node', [join(root, 'scripts', 'build-if-needed.mjs')], { cwd: root, stdio: 'inherit' });
  t = await startTestServer();
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});
afterAll(async () => {
  await t.stop();
});

interface Proc {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Resolves once stdout or stderr contains `text`. */
  says(text: string, timeoutMs?: number): Promise<void>;
}

function mailroom(args: string[]): Proc {
  const { MAILROOM_URL, MAILROOM_API_KEY, ...env } = process.env;
  const child = spawn(process.execPath, [cli, ...args], { cwd: root, env });
  children.push(child);
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  child.stdout.on('data', (c) => {
    stdout += c.toString();
    for (const l of listeners) l();
  });
  child.stderr.on('data', (c) => {
    stderr += c.toString();
    for (const l of listeners) l();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    says: (text, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (stdout.includes(text) || stderr.includes(text)) {
            listeners.delete(check);
            clearTimeout(timer);
            resolve();
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`never said "${text}"; stdout: ${stdout} stderr: ${stderr}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
  };
}

describe('mailroom worker and mailroom watch', () => {
  it('watch follows a job to completion while the example worker runs it with progress', async () => {
    const job = (
      await call(t.base, 'POST', '/api/v1/jobs', { type: 'text-to-image', input: { prompt: 'fjord' } })
    ).body;
    const watch = mailroom(['watch', job.id, '--url', t.base]);
    await watch.says('watching job:');
    const worker = mailroom([
      'worker',
      '--types',
      'text-to-image,upscale',
      '--url',
      t.base,
      '--step-ms',
      '5',
    ]);
    await worker.says('registered as');

    expect(await watch.exited).toBe(0);
    const lines = watch.stdout();
    expect(lines).toContain('job_started');
    expect(lines).toMatch(/job_progress .*100%/);
    expect(lines).toMatch(/job_completed .*output \{"images":\[\{"url":"mailroom-sim:\/\/text-to-image\//);
    const done = await waitForJob(t.base, job.id, (j) => j.status === 'completed');
    expect(done.output.prompt).toBe('fjord');
    await worker.says(`completed text-to-image ${job.id}`);

    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
  });

  it('watch prints JSON lines with cursors, and exits 1 for a job that failed', async () => {
    const slow = (await call(t.base, 'POST', '/api/v1/jobs', { type: 'sleep', input: { ms: 1_500 } })).body;
    const watch = mailroom(['watch', slow.id, '--url', t.base, '--json']);
    expect(await watch.exited).toBe(0);
    const lines = watch
      .stdout()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(lines.at(-1)).toMatchObject({
      cursor: expect.stringMatching(/\.\d+$/),
      event: { type: 'job_completed' },
    });

    const job = (await call(t.base, 'POST', '/api/v1/jobs', { type: 'fail', input: { retryable: false } }))
      .body;
    await waitForJob(t.base, job.id, (j) => j.status === 'failed');
    const again = mailroom(['watch', job.id, '--url', t.base]);
    expect(await again.exited).toBe(1);
    expect(again.stderr()).toContain('already failed');
  });

  it('worker refuses types that are not remote with exit 2 and the reason', async () => {
    const worker = mailroom(['worker', '--types', 'echo', '--url', t.base]);
    expect(await worker.exited).toBe(2);
    expect(worker.stderr()).toContain('VALIDATION_FAILED');
    expect(worker.stderr()).toContain('types.0');
    const missing = mailroom(['worker', '--url', t.base]);
    expect(await missing.exited).toBe(2);
    expect(missing.stderr()).toContain('--types is required');
  });

  it('both exit 3 when no server listens', async () => {
    const watch = mailroom(['watch', '*', '--url', 'http://127.0.0.1:9']);
    const worker = mailroom(['worker', '--types', 'upscale', '--url', 'http://127.0.0.1:9']);
    expect(await watch.exited).toBe(3);
    expect(await worker.exited).toBe(3);
    expect(worker.stderr()).toContain('cannot reach');
  });
});
