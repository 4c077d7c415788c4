#!/usr/bin/env node
/**
 * The `mailroom` command. The only module allowed to print with console.*: everything else logs.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
 */
import { parseArgs } from 'node:util';
import { type Config, type ConfigOverrides, loadConfig } from './config.js';
import { isMailroomError } from './errors.js';

const USAGE = `Usage: mailroom <command> [options]

Commands:
  serve                  run the server (HTTP and WebSocket)
  submit, watch,         coming soon: submit jobs, follow events,
  worker, bench          run a remote worker, load-test a server

Options for serve (each overrides the env var in brackets):
  --port <n>             listen port, 0 picks a free one   [PORT, default 8080]
  --host <addr>          listen address                   [HOST, default 127.0.0.1]
  --redis-url <url>      redis:// or rediss:// URL; unset = in-memory store, not durable  [REDIS_URL]
  --redis-prefix <s>     Redis key namespace              [REDIS_PREFIX, default mailroom:]
  --api-keys <k1,k2>     comma-separated API keys; unset = auth off  [API_KEYS]
  --webhook-secret <s>   HMAC-SHA256 secret for webhook signatures  [WEBHOOK_SECRET]
  --config <path>        JSON config file (job types, limits)  [MAILROOM_CONFIG, default built-in]
  --log-level <level>    fatal|error|warn|info|debug|trace|silent  [LOG_LEVEL, default info]
  -h, --help             show this help
`;

const COMING = new Set(['submit', 'watch', 'worker', 'bench']);

function usageError(message: string): never {
  console.error(`mailroom: ${message}\n\n${USAGE}`);
  process.exit(2);
}

async function serve(args: string[]): Promise<void> {
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
    usageError((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return;
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
      console.error(`mailroom: ${error.message.split(': ')[0]}`);
      for (const detail of error.details ?? []) console.error(`  ${detail.path}: ${detail.message}`);
      process.exit(2);
    }
    throw error;
  }
  // Loaded late so that help, usage and config errors work even where the server cannot load.
  const { startServer } = await import('./main.js');
  await startServer(config);
}

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    if (command === undefined) usageError('missing command');
    console.log(USAGE);
    return;
  }
  if (command === 'serve') return serve(rest);
  if (COMING.has(command)) {
    console.error(`mailroom: "${command}" is not available yet`);
    process.exit(2);
  }
  usageError(`unknown command "${command}"`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`mailroom: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
