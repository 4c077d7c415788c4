/**
 * `mailroom submit`: send a job or a workflow, given as JSON inline, in a file or on stdin, and
 * with --wait follow it to its terminal state. Exit codes tell scripts what happened.
 */
import { readFileSync } from 'node:fs';
import { HttpClient, MailroomApiError, MailroomConnectionError } from '../client/index.js';
import type { JobSpec, JobView } from '../schemas/job.js';
import type { WorkflowView } from '../schemas/workflow.js';
import { CliUsageError, EXIT, err, out, parseFlags, serverTarget } from './common.js';

export const SUBMIT_USAGE = `Usage: mailroom submit [<json> | -] [options]

Submit a job ({"type": "echo", "input": …}) or a workflow ({"name": …, "steps": [...]}).
The JSON comes from the argument, from --file, or from stdin (no argument, or "-").
Whether it is a job or a workflow is told by its fields ("steps" or "definition" make a
workflow); --job or --workflow says it outright.

Options:
  --url <url>          the server             [MAILROOM_URL, default http://127.0.0.1:8080]
  --api-key <key>      sent as x-api-key      [MAILROOM_API_KEY]
  -f, --file <path>    read the JSON from a file
  --job | --workflow   what the JSON is
  -w, --wait           wait for completed, failed or cancelled, then print the final resource
  --timeout <seconds>  with --wait: give up after this long              [300]
  -q, --quiet          print only the id (with --wait: the output, as JSON)
  -h, --help           show this help

Prints the job or workflow as JSON on stdout; progress and errors go to stderr.

Exit codes:
  0  submitted (with --wait: completed)
  1  with --wait: the job or workflow failed or was cancelled
  2  usage error, unreadable JSON, or the server rejected the request (4xx: VALIDATION_FAILED,
     UNAUTHORIZED, NOT_FOUND …)
  3  the server could not be reached, or could not serve it now (5xx, 429)
  4  with --wait: timed out before a terminal state

Examples:
  mailroom submit '{"type":"echo","input":{"hello":"world"}}' --wait
  mailroom submit -f workflow.json --wait --url http://127.0.0.1:8080
  echo '{"type":"sleep","input":{"ms":500}}' | mailroom submit --quiet
`;

const TERMINAL = new Set(['completed', 'failed', 'cancelled']);

const FLAGS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  file: { type: 'string', short: 'f' },
  job: { type: 'boolean' },
  workflow: { type: 'boolean' },
  wait: { type: 'boolean', short: 'w' },
  timeout: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  help: { type: 'boolean', short: 'h' },
} as const;

const options = (args: string[]) => parseFlags(args, FLAGS, SUBMIT_USAGE, true);

function readInput(positional: string | undefined, file: string | undefined): string {
  if (positional !== undefined && file !== undefined)
    throw new CliUsageError('give the JSON inline or with --file, not both', SUBMIT_USAGE);
  if (file !== undefined) {
    try {
      return readFileSync(file, 'utf8');
    } catch (error) {
      throw new CliUsageError(
        `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      );
    }
  }
  if (positional !== undefined && positional !== '-') return positional;
  if (process.stdin.isTTY)
    throw new CliUsageError('no JSON given: pass it as an argument, with --file, or on stdin', SUBMIT_USAGE);
  try {
    return readFileSync(0, 'utf8');
  } catch (error) {
    throw new CliUsageError(`cannot read stdin: ${(error as Error).message}`);
  }
}

function parseJson(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliUsageError(`the input is not valid JSON: ${(error as Error).message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliUsageError('the input must be a JSON object (a job or a workflow)');
  }
  return value as Record<string, unknown>;
}

export async function submit(args: string[]): Promise<number> {
  const { values, positionals } = options(args);
  if (values.help) {
    out(SUBMIT_USAGE);
    return EXIT.OK;
  }
  if (positionals.length > 1)
    throw new CliUsageError(`one JSON argument at most, got ${positionals.length}`, SUBMIT_USAGE);
  if (values.job && values.workflow)
    throw new CliUsageError('--job and --workflow exclude each other', SUBMIT_USAGE);
  const timeoutS = values.timeout === undefined ? 300 : Number(values.timeout);
  if (!(timeoutS > 0))
    throw new CliUsageError(`--timeout: expected seconds above 0, got "${values.timeout}"`, SUBMIT_USAGE);
  const { url, apiKey } = serverTarget(values);

  const body = parseJson(readInput(positionals[0], values.file));
  const isWorkflow = values.workflow || (!values.job && ('steps' in body || 'definition' in body));
  const client = new HttpClient({ url, apiKey });
  const quiet = values.quiet === true;

  try {
    let resource: JobView | WorkflowView = isWorkflow
      ? await client.submitWorkflow(body as never)
      : await client.submitJob(body as JobSpec);
    const kind = isWorkflow ? 'workflow' : 'job';
    if (!values.wait) {
      out(quiet ? resource.id : JSON.stringify(resource, null, 2));
      return EXIT.OK;
    }
    if (!quiet) err(`${kind} ${resource.id} submitted; waiting…`);
    const deadline = Date.now() + timeoutS * 1000;
    let delay = 50;
    let lastStatus = resource.status;
    while (!TERMINAL.has(resource.status)) {
      if (Date.now() > deadline) {
        err(`mailroom: ${kind} ${resource.id} is still ${resource.status} after ${timeoutS} s`);
        return EXIT.TIMEOUT;
      }
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(500, delay * 2);
      resource = isWorkflow ? await client.getWorkflow(resource.id) : await client.getJob(resource.id);
      if (!quiet && resource.status !== lastStatus) err(`${kind} ${resource.id}: ${resource.status}`);
      lastStatus = resource.status;
    }
    if (quiet) {
      const output = isWorkflow
        ? (resource as WorkflowView).step_details.map((s) => s.output)
        : (resource as JobView).output;
      out(JSON.stringify(output ?? null));
    } else out(JSON.stringify(resource, null, 2));
    return resource.status === 'completed' ? EXIT.OK : EXIT.FAILED;
  } catch (error) {
    return reportClientError(error);
  }
}

/** Prints a client error readably and maps it to an exit code (2 for 4xx but 429, 3 for the rest). */
export function reportClientError(error: unknown): number {
  if (error instanceof MailroomApiError) {
    err(`mailroom: ${error.code} (HTTP ${error.status}): ${error.message}`);
    for (const detail of error.details ?? []) err(`  ${detail.path || '(body)'}: ${detail.message}`);
    return error.status >= 400 && error.status < 500 && error.status !== 429 ? EXIT.USAGE : EXIT.UNREACHABLE;
  }
  if (error instanceof MailroomConnectionError) {
    err(`mailroom: ${error.message} (is the server running? set --url or MAILROOM_URL)`);
    return EXIT.UNREACHABLE;
  }
  throw error;
}
