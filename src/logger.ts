/**
 * The pino logger factory: JSON lines on stdout. Components get child loggers carrying their
 * context (`actor`, `job_id`, `request_id`, …) rather than building messages by hand.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import type { LogLevel } from './schemas/config.js';

export type { Logger } from 'pino';

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; stdout when omitted (tests pass a stream to capture them). */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const settings = {
    level: options.level,
    base: { service: 'mailroom', pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      // Text levels keep the lines readable with jq and log shippers without a lookup table.
      level: (label: string) => ({ level: label }),
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
}
