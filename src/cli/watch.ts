/**
 * `mailroom watch`: live events of a job, a workflow or any topics, one readable line each (or
 * JSON lines), resuming across reconnects. Watching one job or workflow ends with it, and the exit
 * code says how it ended.
 */
import { HttpClient, WsClient } from '../client/index.js';
import type { MailroomEvent } from '../schemas/events.js';
import type { JobView } from '../schemas/job.js';
import type { WorkflowView } from '../schemas/workflow.js';
import { CliUsageError, EXIT, err, out, parseFlags, serverTarget } from './common.js';
import { reportClientError } from './submit.js';

export const WATCH_USAGE = `Usage: mailroom watch <target>... [options]

Targets are topics: job:<id>, workflow:<id>, type:<job type>, event:<event type>,
worker:<id>, or * for everything. A bare id means job:<id> (workflow:<id> with --workflow).

Options:
  --url <url>          the server             [MAILROOM_URL, default http://127.0.0.1:8080]
  --api-key <key>      the API key            [MAILROOM_API_KEY]
  --since <cursor>     first replay every event after this cursor (printed with --json)
  --workflow           bare ids are workflow ids
  --follow             keep watching after the watched job or workflow ended
  --json               one JSON line per event: {"cursor": …, "event": …}
  -h, --help           show this help

Watching exactly one job or workflow (and no --follow) stops when it ends.

Exit codes:
  0  it completed (or, when following topics, stopped with Ctrl-C)
  1  the watched job or workflow failed or was cancelled
  2  usage error or the server refused the subscription
  3  the server could not be reached

Examples:
  mailroom watch 5b0c3d9e-…                 # one job until it ends
  mailroom watch workflow:7f1e… --json
  mailroom watch 'type:text-to-image' '*'
`;

const TOPIC = /^(\*|(job|workflow|type|event|worker):.+)$/;
const ENDINGS: Record<string, number> = {
  job_completed: EXIT.OK,
  job_failed: EXIT.FAILED,
  job_cancelled: EXIT.FAILED,
  workflow_completed: EXIT.OK,
  workflow_failed: EXIT.FAILED,
  workflow_cancelled: EXIT.FAILED,
};

const FLAGS = {
  url: { type: 'string' },
  'api-key': { type: 'string' },
  since: { type: 'string' },
  workflow: { type: 'boolean' },
  follow: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const options = (args: string[]) => parseFlags(args, FLAGS, WATCH_USAGE, true);

export async function watch(args: string[]): Promise<number> {
  const { values, positionals } = options(args);
  if (values.help) {
    out(WATCH_USAGE);
    return EXIT.OK;
  }
  if (positionals.length === 0) throw new CliUsageError('name at least one target', WATCH_USAGE);
  const topics = positionals.map((target) =>
    TOPIC.test(target) ? target : `${values.workflow ? 'workflow' : 'job'}:${target}`,
  );
  const { url, apiKey } = serverTarget(values);
  // One job or workflow, not followed: the watch ends with it.
  const single =
    topics.length === 1 && /^(job|workflow):/.test(topics[0]!) && !values.follow ? topics[0]! : null;

  let client: WsClient;
  try {
    client = await WsClient.connect({ url, apiKey });
  } catch (error) {
    return reportClientError(error);
  }
  return new Promise<number>((resolve) => {
    let finished = false;
    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      process.off('SIGINT', onSignal);
      client.close();
      resolve(code);
    };
    const onSignal = (): void => finish(EXIT.OK);
    process.on('SIGINT', onSignal);

    const onEvent = (event: MailroomEvent, cursor: string): void => {
      out(values.json ? JSON.stringify({ cursor, event }) : describe(event));
      if (single && isEndOf(single, event)) finish(ENDINGS[event.type]!);
    };
    client
      .subscribe(topics, {
        since: values.since,
        onEvent,
        onReset: (topic) =>
          err(`mailroom: events of ${topic} before now are no longer kept; watching from now`),
      })
      .then(async (subscription) => {
        if (!values.json) err(`watching ${topics.join(', ')} (cursor ${subscription.cursor})`);
        // It may have ended before the subscription started: then no event will tell.
        if (single && !values.since) {
          const ended = await endedAlready(new HttpClient({ url, apiKey }), single);
          if (ended !== null) {
            err(`${single} already ${ended.status}`);
            // Its outcome, as the final resource: the events that told it are history now.
            out(values.json ? JSON.stringify(ended) : clip(JSON.stringify(ended), 2_000));
            finish(ended.status === 'completed' ? EXIT.OK : EXIT.FAILED);
          }
        }
      })
      .catch((error: unknown) => {
        finish(reportClientError(error));
      });
  });
}

/** The job or workflow when it has already ended, else null. */
async function endedAlready(http: HttpClient, topic: string): Promise<JobView | WorkflowView | null> {
  const [kind, id] = [topic.slice(0, topic.indexOf(':')), topic.slice(topic.indexOf(':') + 1)];
  const resource = kind === 'job' ? await http.getJob(id) : await http.getWorkflow(id);
  return ['completed', 'failed', 'cancelled'].includes(resource.status) ? resource : null;
}

function isEndOf(topic: string, event: MailroomEvent): boolean {
  if (!(event.type in ENDINGS)) return false;
  const fields = event as unknown as Record<string, unknown>;
  if (topic.startsWith('job:')) return event.type.startsWith('job_') && fields.job_id === topic.slice(4);
  return event.type.startsWith('workflow_') && fields.workflow_id === topic.slice(9);
}

/** One line per event: time, type, subject, and what changed. */
export function describe(event: MailroomEvent): string {
  const fields = event as unknown as Record<string, unknown>;
  const time = String(fields.at ?? '').slice(11, 23);
  let subject = '';
  if (typeof fields.job_type === 'string') subject = `job ${fields.job_id} (${fields.job_type})`;
  else if (typeof fields.workflow_id === 'string')
    subject = `workflow ${fields.workflow_id} (${fields.workflow_name})`;
  else if (typeof fields.worker_id === 'string') subject = `worker ${fields.worker_id}`;
  const details: string[] = [];
  if (typeof fields.step_name === 'string')
    details.push(`step ${fields.step_name} done (${fields.completed_steps}/${fields.total_steps})`);
  if (typeof fields.progress === 'number') details.push(`${fields.progress}%`);
  if (typeof fields.message === 'string' && fields.message) details.push(fields.message);
  if (typeof fields.attempt === 'number') details.push(`attempt ${fields.attempt}`);
  if (typeof fields.worker_id === 'string' && subject.startsWith('job'))
    details.push(`on ${fields.worker_id}`);
  const error = fields.error as { code?: string; message?: string } | null | undefined;
  if (error) details.push(`${error.code}: ${error.message}`);
  if (fields.output !== undefined && fields.output !== null)
    details.push(`output ${clip(JSON.stringify(fields.output))}`);
  if (typeof fields.cost === 'number') details.push(`cost ${fields.cost}`);
  return `${time}  ${event.type.padEnd(24)} ${subject}${details.length ? `  ${details.join(' · ')}` : ''}`;
}

function clip(text: string, max = 160): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
