/**
 * What every `mailroom` subcommand shares: output (the CLI is the one place that prints; this
 * writes to the streams directly), the exit codes, flag parsing, and the usage-error path.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Exit codes of every subcommand, as `--help` documents them. */
export const EXIT = {
  OK: 0,
  /** The job or workflow failed or was cancelled; a runtime failure. */
  FAILED: 1,
  /** Bad flags or input, or a command that is not available. */
  USAGE: 2,
  /** The server could not be reached, or answered with an error. */
  UNREACHABLE: 3,
  /** `--wait` gave up before the terminal state. */
  TIMEOUT: 4,
} as const;

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function err(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Thrown by a subcommand for bad usage; the dispatcher prints it with the command's help and exits 2. */
export class CliUsageError extends Error {
  override name = 'CliUsageError';
  constructor(
    message: string,
    readonly usage?: string,
  ) {
    super(message);
  }
}

/** A subcommand: parses its own flags; resolves with its exit code, or undefined to keep running (serve). */
export type SubcommandRun = (args: string[]) => Promise<number | undefined>;

/** Parses a subcommand's flags strictly; a bad flag is a usage error shown with the command's help. */
export function parseFlags<const O extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  options: O,
  usage: string,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, strict: true, allowPositionals, options });
  } catch (error) {
    throw new CliUsageError((error as Error).message, usage);
  }
}

/** The server a client subcommand talks to: `--url` or MAILROOM_URL, and `--api-key` or MAILROOM_API_KEY. */
export function serverTarget(values: { url?: string | undefined; 'api-key'?: string | undefined }): {
  url: string;
  apiKey: string | undefined;
} {
  const url = values.url ?? process.env.MAILROOM_URL ?? 'http://127.0.0.1:8080';
  if (!/^https?:\/\//.test(url))
    throw new CliUsageError(`--url: expected http://… or https://…, got "${url}"`);
  return { url, apiKey: values['api-key'] ?? process.env.MAILROOM_API_KEY };
}
