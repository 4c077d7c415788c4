/**
 * Gathers configuration from env vars, CLI flags and the JSON config file, validates it once and
 * freezes it (validate-then-freeze): nothing downstream re-checks or mutates configuration.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { z } from 'zod';
import { type ErrorDetail, MailroomError } from './errors.js';
import { FileConfig, ServerOptions } from './schemas/config.js';

export interface Config {
  readonly server: Readonly<ServerOptions>;
  readonly file: Readonly<FileConfig>;
}

/** Raw values as they come from the command line; strings are parsed like env vars. */
export interface ConfigOverrides {
  port?: string | number | undefined;
  host?: string | undefined;
  redisUrl?: string | undefined;
  redisPrefix?: string | undefined;
  apiKeys?: string | undefined;
  webhookSecret?: string | undefined;
  configPath?: string | undefined;
  logLevel?: string | undefined;
}

type ServerKey = keyof ConfigOverrides;

/** Env var and CLI flag for each server option, so errors name what the user actually typed. */
const SOURCES: Record<ServerKey, { env: string; flag: string }> = {
  port: { env: 'PORT', flag: '--port' },
  host: { env: 'HOST', flag: '--host' },
  redisUrl: { env: 'REDIS_URL', flag: '--redis-url' },
  redisPrefix: { env: 'REDIS_PREFIX', flag: '--redis-prefix' },
  apiKeys: { env: 'API_KEYS', flag: '--api-keys' },
  webhookSecret: { env: 'WEBHOOK_SECRET', flag: '--webhook-secret' },
  configPath: { env: 'MAILROOM_CONFIG', flag: '--config' },
  logLevel: { env: 'LOG_LEVEL', flag: '--log-level' },
};

export interface LoadConfigOptions {
  env?: NodeJS.ProcessEnv;
  overrides?: ConfigOverrides;
  /** Base for a relative config path; defaults to the process's working directory. */
  cwd?: string;
}

let defaultConfigPath: string | undefined;

/**
 * The built-in config file. Found by walking up from this module, because it sits at
 * `<root>/src` under tsx and at `<root>/dist/src` when built.
 */
export function builtInConfigPath(): string {
  if (defaultConfigPath) return defaultConfigPath;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'config', 'default.json');
    if (existsSync(candidate)) {
      defaultConfigPath = candidate;
      return candidate;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new MailroomError('CONFIG_INVALID', 'built-in config/default.json not found');
    dir = parent;
  }
}

/** Env vars, then CLI flags over them, then the JSON file: parsed once, deeply frozen. */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const overrides = options.overrides ?? {};
  const raw: Record<string, unknown> = {};
  const origin: Partial<Record<ServerKey, string>> = {};
  for (const key of Object.keys(SOURCES) as ServerKey[]) {
    const source = SOURCES[key];
    const fromFlag = overrides[key];
    // An empty env var means "unset", as shells make it easy to export one by accident.
    const fromEnv = env[source.env];
    if (fromFlag !== undefined) {
      raw[key] = fromFlag;
      origin[key] = source.flag;
    } else if (fromEnv !== undefined && fromEnv !== '') {
      raw[key] = fromEnv;
      origin[key] = source.env;
    }
  }

  const details: ErrorDetail[] = [];
  const server = ServerOptions.safeParse(raw);
  if (!server.success) {
    details.push(...toDetails(server.error, (path) => origin[path[0] as ServerKey] ?? String(path[0] ?? '')));
  }

  // The file is checked even when a server option is wrong, so one run reports every problem.
  const configPath = typeof raw.configPath === 'string' ? raw.configPath : undefined;
  const filePath = configPath ? resolve(options.cwd ?? process.cwd(), configPath) : builtInConfigPath();
  const fileLabel = origin.configPath ?? 'config file';
  let file: FileConfig | undefined;
  let fileIssues = false;
  const json = readJson(filePath, fileLabel, details);
  if (json !== undefined) {
    const parsed = FileConfig.safeParse(json);
    if (parsed.success) file = parsed.data;
    else {
      fileIssues = true;
      details.push(...toDetails(parsed.error, (path) => path.join('.')));
    }
  }

  if (!server.success || !file || details.length > 0) {
    const where = fileIssues ? ` (config file ${filePath})` : '';
    const summary = details.map((d) => `${d.path}: ${d.message}`).join('; ');
    throw new MailroomError('CONFIG_INVALID', `Configuration is invalid${where}: ${summary}`, { details });
  }
  return deepFreeze({ server: server.data, file });
}

function readJson(path: string, label: string, details: ErrorDetail[]): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : String(error);
    details.push({ path: label, message: `cannot read ${path}: ${reason}` });
    return undefined;
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    details.push({ path: label, message: `${path} is not valid JSON: ${(error as Error).message}` });
    return undefined;
  }
}

function toDetails(error: z.ZodError, name: (path: ReadonlyArray<PropertyKey>) => string): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  for (const issue of error.issues) {
    // Strict objects report unknown keys once for the parent; name each key so it can be found.
    const paths =
      issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key]) : [issue.path];
    for (const path of paths) {
      details.push({ path: name(path) || '(root)', message: issue.message });
    }
  }
  return details;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const inner of Object.values(value)) deepFreeze(inner);
  }
  return value;
}
