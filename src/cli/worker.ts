/**
 * `mailroom worker`: the example remote worker. It connects to `/ws/worker`, registers for the
 * given types and simulates the image pipeline this project grew out of: each job "denoises" in
 * steps with progress, then answers with image records and a GPU-time cost. A template for real
 * workers (replace `simulate` with the model call); see src/client/worker-client.ts.
 */
import { hostname } from 'node:os';
import { type WorkerActivity, WorkerClient, type WorkerContext } from '../client/index.js';
import type { AssignedJob } from '../schemas/ws.js';
import { CliUsageError, EXIT, err, out, parseFlags, serverTarget } from './common.js';
import { reportClientError } from './submit.js';

export const WORKER_USAGE = `Usage: mailroom worker --types <t1,t2> [options]

Runs the example remote worker: it simulates the image pipeline (text-to-image,
image-to-image, upscale, controlnet) with progress, and reconnects when the server goes away.

Options:
  --types <list>       job types to take, comma-separated (required; remote types only)
  --url <url>          the server             [MAILROOM_URL, default http://127.0.0.1:8080]
  --api-key <key>      the API key            [MAILROOM_API_KEY]
  --name <name>        shown in GET /api/v1/workers            [<hostname>-<pid>]
  --slots <n>          jobs run at once                        [2]
  --gpu <GB>           GPU memory offered (jobs needing more never come here)  [24]
  --labels <list>      capability labels, comma-separated
  --step-ms <ms>       simulated time per denoising step (20 steps by default)  [100]
  --fail-rate <0..1>   fail this share of jobs (retryable), to watch retries   [0]
  -h, --help           show this help

Exit codes: 0 stopped with Ctrl-C or SIGTERM · 2 usage error or registration refused ·
3 the server could not be reached at start.

Example:
  mailroom worker --types text-to-image,upscale --slots 4
`;

const FLAGS = {
  types: { type: 'string' },
  url: { type: 'string' },
  'api-key': { type: 'string' },
  name: { type: 'string' },
  slots: { type: 'string' },
  gpu: { type: 'string' },
  labels: { type: 'string' },
  'step-ms': { type: 'string' },
  'fail-rate': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

const options = (args: string[]) => parseFlags(args, FLAGS, WORKER_USAGE);

function number(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min || value > max)
    throw new CliUsageError(`--${flag}: expected a number from ${min} to ${max}, got "${raw}"`, WORKER_USAGE);
  return value;
}

const list = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);

export async function worker(args: string[]): Promise<number> {
  const { values } = options(args);
  if (values.help) {
    out(WORKER_USAGE);
    return EXIT.OK;
  }
  const types = list(values.types);
  if (types.length === 0) throw new CliUsageError('--types is required', WORKER_USAGE);
  const { url, apiKey } = serverTarget(values);
  const slots = number('slots', values.slots, 2, 1, 10_000);
  const gpu = number('gpu', values.gpu, 24, 0, 100_000);
  const stepMs = number('step-ms', values['step-ms'], 100, 0, 60_000);
  const failRate = number('fail-rate', values['fail-rate'], 0, 0, 1);

  let client: WorkerClient;
  try {
    client = await WorkerClient.start({
      url,
      apiKey,
      name: values.name ?? `${hostname()}-${process.pid}`,
      types,
      capabilities: { gpu_memory_gb: gpu, labels: list(values.labels) },
      slots,
      handler: (job, ctx) => simulate(job, ctx, stepMs, failRate),
      onActivity: log,
    });
  } catch (error) {
    return reportClientError(error);
  }
  return new Promise<number>((resolve) => {
    const stop = (): void => {
      err('stopping: running jobs go back to the queue');
      client.stop();
      resolve(EXIT.OK);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function log(activity: WorkerActivity): void {
  const time = new Date().toISOString().slice(11, 23);
  switch (activity.kind) {
    case 'registered':
      out(`${time}  registered as ${activity.workerId}`);
      return;
    case 'started':
      out(`${time}  started   ${activity.job.type} ${activity.job.id} (attempt ${activity.job.attempt})`);
      return;
    case 'completed':
      out(`${time}  completed ${activity.job.type} ${activity.job.id} cost ${activity.result.cost ?? 0}`);
      return;
    case 'failed':
      out(
        `${time}  failed    ${activity.job.type} ${activity.job.id}: ${activity.error.code} ${activity.error.message}`,
      );
      return;
    case 'cancelled':
      out(`${time}  cancelled ${activity.job.type} ${activity.job.id}: ${activity.reason}`);
      return;
    case 'refused':
      err(`${time}  refused   ${activity.jobId ?? ''} ${activity.error.code}: ${activity.error.message}`);
      return;
    case 'disconnected':
      err(`${time}  disconnected (${activity.code}); reconnecting…`);
      return;
  }
}

interface ImageInput {
  prompt?: string;
  image_url?: string;
  parameters?: {
    steps?: number;
    width?: number;
    height?: number;
    batch_size?: number;
    scale?: number;
    seed?: number;
  };
}

/** A stand-in for the model: steps with progress, then image records. Aborts when cancelled. */
async function simulate(job: AssignedJob, ctx: WorkerContext, stepMs: number, failRate: number) {
  const input = (job.input ?? {}) as ImageInput;
  const parameters = input.parameters ?? {};
  const steps = Math.max(1, Math.min(200, Math.trunc(parameters.steps ?? 20)));
  const started = Date.now();
  for (let step = 1; step <= steps; step++) {
    await delay(stepMs, ctx.signal);
    // Every tenth of the way, so a long job reports about ten times.
    if (step === steps || step % Math.max(1, Math.round(steps / 10)) === 0) {
      ctx.progress(Math.round((step / steps) * 100), `step ${step}/${steps}`);
    }
  }
  if (Math.random() < failRate) {
    throw Object.assign(new Error('simulated CUDA out of memory'), { code: 'GPU_OOM', retryable: true });
  }
  const seconds = (Date.now() - started) / 1000;
  const seed = parameters.seed ?? Math.floor(Math.random() * 2 ** 31);
  const width = parameters.width ?? 1024;
  const height = parameters.height ?? 1024;
  const count = Math.max(1, Math.min(16, Math.trunc(parameters.batch_size ?? 1)));
  const image = (index: number, w: number, h: number) => ({
    url: `mailroom-sim://${job.type}/${job.id}/${index}.png`,
    width: w,
    height: h,
    seed: seed + index,
  });
  const output =
    job.type === 'upscale'
      ? {
          image: image(0, width * (parameters.scale ?? 2), height * (parameters.scale ?? 2)),
          scale: parameters.scale ?? 2,
        }
      : {
          images: Array.from({ length: count }, (_, i) => image(i, width, height)),
          prompt: input.prompt ?? null,
          steps,
        };
  // Priced like GPU time: $0.0005 per simulated GPU-second, rounded to a ten-thousandth.
  return { output, cost: Math.round(seconds * 0.0005 * 10_000) / 10_000 };
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
