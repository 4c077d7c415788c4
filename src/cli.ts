#!/usr/bin/env -S node --max-semi-space-size=64
/**
 * The `mailroom` command: dispatches to one module per subcommand under src/cli/, each loaded
 * only when used. The CLI is the only part that prints; everything else logs.
 * Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error; subcommands add their own
 * (see `mailroom <command> --help`).
 */
import { CliUsageError, EXIT, err, out, type SubcommandRun } from './cli/common.js';

interface Command {
  summary: string;
  load: () => Promise<SubcommandRun>;
}

/** The subcommands, in the order `--help` lists them. Add one: a module under src/cli/ and a line here. */
const COMMANDS: Record<string, Command> = {
  serve: {
    summary: 'run the server (HTTP and WebSocket)',
    load: async () => (await import('./cli/serve.js')).serve,
  },
  submit: {
    summary: 'submit a job or workflow from JSON (--wait prints the result)',
    load: async () => (await import('./cli/submit.js')).submit,
  },
  watch: {
    summary: 'follow live events of a job, workflow or topic',
    load: async () => (await import('./cli/watch.js')).watch,
  },
  worker: {
    summary: 'run the example remote worker (simulates the image pipeline)',
    load: async () => (await import('./cli/worker.js')).worker,
  },
  bench: {
    summary: 'load-test a server (the harness in bench/; --compare bullmq)',
    load: async () => (await import('./cli/bench.js')).bench,
  },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`);
  return `Usage: mailroom <command> [options]

Commands:
${lines.join('\n')}

Run \`mailroom <command> --help\` for a command's options and exit codes.
`;
}

function usageError(message: string, text = usage()): number {
  err(`mailroom: ${message}\n\n${text}`);
  return EXIT.USAGE;
}

async function main(argv: string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === undefined) return usageError('missing command');
  if (command === '--help' || command === '-h' || command === 'help') {
    out(usage());
    return EXIT.OK;
  }
  const entry = COMMANDS[command];
  if (!entry) return usageError(`unknown command "${command}"`);
  try {
    return await (await entry.load())(rest);
  } catch (error) {
    if (error instanceof CliUsageError) {
      if (error.usage) return usageError(error.message, error.usage);
      err(`mailroom: ${error.message}`);
      return EXIT.USAGE;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // undefined: a long-running command (serve) that its signal handlers end.
    if (code !== undefined) process.exit(code);
  },
  (error: unknown) => {
    err(`mailroom: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(EXIT.FAILED);
  },
);
