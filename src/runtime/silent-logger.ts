/**
 * The logger a system uses when it is given none: every level is a no-op, so the runtime can log
 * unconditionally instead of checking for a logger at each call.
 */
import type { Logger } from 'pino';

export const silentLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
  trace() {},
  child() {
    return silentLogger;
  },
} as unknown as Logger;
