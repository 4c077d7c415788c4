/**
 * The built CLI as a user runs it (`node dist/src/cli.js …`): submit from an argument, a file and
 * stdin, --wait, the exit codes, readable errors, the dispatcher's usage, and `bench` refusing
 * what it cannot run. The server runs in-process on port 0.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../global-setup.js';
import { startTestServer, type TestServer } from '../http/support.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'dist', 'src', 'cli.js');

let t: TestServer;
let keyed: TestServer;
let dir: string;

beforeAll(async () => {
  execFileSync('node', [join(root, 'scripts', 'build-if-needed.mjs')], { cwd: root, stdio: 'inherit' });
  t = await startTestServer();
  keyed = await startTestServer({ apiKeys: 'cli-key' });
  dir = mkdtempSync(join(tmpdir(), 'mailroom-cli-'));
});
afterAll(async () => {
  await t.stop();
  await keyed.stop();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI without blocking this process's event loop (the server lives here). */
function mailroom(args: string[], stdin?: string, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const { MAILROOM_URL, MAILROOM_API_KEY, ...base } = process.env;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, env: { ...base, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c) => {
      stderr += c.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (stdin !== undefined) child.stdin.end(stdin);
    else child.stdin.end();
  });
}

describe('mailroom submit', () => {
  it('submits a job given inline and prints it as JSON', async () => {
    const run = await mailroom(['submit', '{"type":"echo","input":{"a":1}}', '--url', t.base]);
    expect(run.code).toBe(0);
    const job = JSON.parse(run.stdout);
    expect(job).toMatchObject({ type: 'echo', input: { a: 1 } });
    expect(job.id).toEqual(expect.any(String));
  });

  it('--wait prints the completed job and exits 0', async () => {
    const run = await mailroom(['submit', '{"type":"echo","input":{"b":2}}', '--wait', '--url', t.base]);
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ status: 'completed', output: { b: 2 } });
    expect(run.stderr).toMatch(/submitted; waiting/);
  });

  it('--wait exits 1 for a job that fails, and prints its error', async () => {
    const run = await mailroom([
      'submit',
      '{"type":"fail","input":{"retryable":false}}',
      '-w',
      '--url',
      t.base,
    ]);
    expect(run.code).toBe(1);
    const job = JSON.parse(run.stdout);
    expect(job.status).toBe('failed');
    expect(job.error).toMatchObject({ retryable: false });
  });

  it('reads a workflow from --file and waits for it', async () => {
    const file = join(dir, 'wf.json');
    writeFileSync(
      file,
      JSON.stringify({
        name: 'cli-wf',
        input: { v: 3 },
        steps: [
          { name: 'a', type: 'echo', input: { v: '{{ input.v }}' } },
          { name: 'b', type: 'echo', depends_on: ['a'], input: '{{ steps.a.output.v }}' },
        ],
      }),
    );
    const run = await mailroom(['submit', '--file', file, '--wait', '--url', t.base]);
    expect(run.code).toBe(0);
    const wf = JSON.parse(run.stdout);
    expect(wf).toMatchObject({ name: 'cli-wf', status: 'completed', total_steps: 2 });
    expect(wf.step_details[1].output).toBe(3);
  });

  it('reads stdin; --quiet prints only the id; MAILROOM_URL picks the server', async () => {
    const run = await mailroom(['submit', '--quiet'], '{"type":"echo"}', { MAILROOM_URL: t.base });
    expect(run.code).toBe(0);
    expect(run.stdout.trim()).toMatch(/^[A-Za-z0-9._:-]+$/);
    const check = await fetch(`${t.base}/api/v1/jobs/${run.stdout.trim()}`);
    expect(check.status).toBe(200);
  });

  it('exits 2 with the server code and details for an invalid job', async () => {
    const run = await mailroom(['submit', '{"type":"no-such-type"}', '--url', t.base]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/VALIDATION_FAILED \(HTTP 400\)/);
    expect(run.stderr).toMatch(/^ {2}type: /m);
    expect(run.stdout).toBe('');
  });

  it('exits 2 for malformed JSON, naming the problem', async () => {
    const run = await mailroom(['submit', '{"type":', '--url', t.base]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/not valid JSON/);
  });

  it('exits 3 when no server answers', async () => {
    const port = await freePort();
    const run = await mailroom(['submit', '{"type":"echo"}', '--url', `http://127.0.0.1:${port}`]);
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/cannot reach .*ECONNREFUSED.*is the server running/);
  });

  it('sends --api-key; without it the server says UNAUTHORIZED (exit 2)', async () => {
    const without = await mailroom(['submit', '{"type":"echo"}', '--url', keyed.base]);
    expect(without.code).toBe(2);
    expect(without.stderr).toMatch(/UNAUTHORIZED/);
    const withKey = await mailroom([
      'submit',
      '{"type":"echo"}',
      '--url',
      keyed.base,
      '--api-key',
      'cli-key',
    ]);
    expect(withKey.code).toBe(0);
  });

  it('--help documents the exit codes', async () => {
    const run = await mailroom(['submit', '--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/Exit codes:/);
    expect(run.stdout).toMatch(/^ {2}3 {2}the server could not be reached/m);
  });

  it('rejects unknown flags with the usage (exit 2)', async () => {
    const run = await mailroom(['submit', '--nope']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/Unknown option '--nope'/);
    expect(run.stderr).toMatch(/Usage: mailroom submit/);
  });
});

describe('mailroom (dispatcher) and mailroom bench', () => {
  it('lists the commands on --help and exits 2 without one', async () => {
    const help = await mailroom(['--help']);
    expect(help.code).toBe(0);
    for (const name of ['serve', 'submit', 'bench', 'watch', 'worker'])
      expect(help.stdout).toContain(`  ${name} `);
    const none = await mailroom([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/missing command/);
  });

  it('exits 2 for an unknown command', async () => {
    const run = await mailroom(['frobnicate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown command "frobnicate"/);
  });

  it('bench --help shows the harness usage; unknown and unavailable scenarios exit 2', async () => {
    const help = await mailroom(['bench', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--compare bullmq/);
    const unknown = await mailroom(['bench', 'no-such-scenario']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown scenario/);
    const flag = await mailroom(['bench', 'submit-http', '--rate', '10', '--connections', '2']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/exclude each other/);
  });
});
