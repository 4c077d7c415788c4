/**
 * `mailroom serve`: run the server (HTTP and WebSocket). Every env var has a flag that overrides it.
 */
import { parseArgs } from 'node:util';
import { type Config, type ConfigOverrides, loadConfig } from '../config.js';
import { isMailroomError } from '../errors.js';
import { CliUsageError, EXIT, err, out } from './common.js';

export const SERVE_USAGE = `Usage: mailroom serve [options]

Run the server (HTTP and WebSocket). Flags override the env var in brackets.

Options:
  --port <n>             listen port, 0 picks a free one   [PORT, default 8080]
  --host <addr>          listen address                   [HOST, default 127.0.0.1]
  --redis-url <url>      redis:// or rediss:// URL; unset = in-memory store, not durable  [REDIS_URL]
  --redis-prefix <s>     Redis key namespace              [REDIS_PREFIX, default mailroom:]
  --api-keys <k1,k2>     comma-separated API keys; unset = auth off  [API_KEYS]
  --webhook-secret <s>   HMAC-SHA256 secret for webhook signatures  [WEBHOOK_SECRET]
  --config <path>        JSON config file (job types, limits)  [MAILROOM_CONFIG, default built-in]
  --log-level <level>    fatal|error|warn|info|debug|trace|silent  [LOG_LEVEL, default info]
  -h, --help             show this help

Exit codes: 0 stopped cleanly, 1 runtime failure, 2 usage or configuration error.
`;

/** Resolves with an exit code for help and errors, or undefined once the server runs (signals end it). */
export async function serve(args: string[]): Promise<number | undefined> {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        'redis-url': { type: 'string' },
        'redis-prefix': { type: 'string' },
        'api-keys': { type: 'string' },
        'webhook-secret': { type: 'string' },
        config: { type: 'string' },
        'log-level': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (error) {
    throw new CliUsageError((error as Error).message, SERVE_USAGE);
  }
  if (values.help) {
    out(SERVE_USAGE);
    return EXIT.OK;
  }
  const flag = (name: string): string | undefined => values[name] as string | undefined;
  const overrides: ConfigOverrides = {
    port: flag('port'),
    host: flag('host'),
    redisUrl: flag('redis-url'),
    redisPrefix: flag('redis-prefix'),
    apiKeys: flag('api-keys'),
    webhookSecret: flag('webhook-secret'),
    configPath: flag('config'),
    logLevel: flag('log-level'),
  };

  let config: Config;
  try {
    config = loadConfig({ env: process.env, overrides });
  } catch (error) {
    if (isMailroomError(error) && error.code === 'CONFIG_INVALID') {
      // The message is "<headline>: <every problem>"; the problems are printed one per line below.
      err(`mailroom: ${error.message.split(': ')[0]}`);
      for (const detail of error.details ?? []) err(`  ${detail.path}: ${detail.message}`);
      return EXIT.USAGE;
    }
    throw error;
  }
  // Loaded late so that help, usage and config errors work even where the server cannot load.
  const { startServer } = await import('../main.js');
  await startServer(config);
  return undefined;
}
