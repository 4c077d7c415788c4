import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { builtInConfigPath, loadConfig } from '../../src/config.js';
import { MailroomError } from '../../src/errors.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');

function configError(fn: () => unknown): MailroomError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(MailroomError);
    return error as MailroomError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('uses the defaults and the built-in config when nothing is set', () => {
    const config = loadConfig({ env: {} });
    expect(config.server).toEqual({
      port: 8080,
      host: '127.0.0.1',
      redisPrefix: 'mailroom:',
      apiKeys: [],
      logLevel: 'info',
    });
    expect(config.file.max_body_bytes).toBe(8 * 1024 * 1024);
    expect(config.file.retention_ms).toBe(24 * 60 * 60 * 1000);
    expect(config.file.event_log_max_len).toBe(100_000);
    const names = config.file.job_types.map((t) => t.name);
    expect(names).toEqual([
      'echo',
      'sleep',
      'fail',
      'checksum',
      'text-to-image',
      'image-to-image',
      'upscale',
      'controlnet',
    ]);
    const byName = new Map(config.file.job_types.map((t) => [t.name, t]));
    expect(byName.get('echo')).toMatchObject({ executor: 'builtin:echo', priority: 50, max_attempts: 3 });
    expect(byName.get('text-to-image')).toMatchObject({
      executor: 'remote',
      requirements: { gpu_memory_gb: 8 },
      input_schema: { required: ['prompt'] },
    });
    expect(byName.get('image-to-image')?.requirements?.gpu_memory_gb).toBe(4);
    expect(byName.get('upscale')?.requirements?.gpu_memory_gb).toBe(12);
    expect(byName.get('controlnet')?.requirements?.gpu_memory_gb).toBe(16);
  });

  it('finds the built-in config from the source tree', () => {
    expect(builtInConfigPath()).toMatch(/config[/\\]default\.json$/);
  });

  it('reads every env var', () => {
    const config = loadConfig({
      env: {
        PORT: '9000',
        HOST: '0.0.0.0',
        REDIS_URL: 'rediss://cache.example:6380/2',
        REDIS_PREFIX: 'mr-test:',
        API_KEYS: 'k1, k2,,',
        WEBHOOK_SECRET: 's3cret',
        MAILROOM_CONFIG: 'config-one-type.json',
        LOG_LEVEL: 'debug',
      },
      cwd: fixtures,
    });
    expect(config.server).toEqual({
      port: 9000,
      host: '0.0.0.0',
      redisUrl: 'rediss://cache.example:6380/2',
      redisPrefix: 'mr-test:',
      apiKeys: ['k1', 'k2'],
      webhookSecret: 's3cret',
      configPath: 'config-one-type.json',
      logLevel: 'debug',
    });
    expect(config.file.retention_ms).toBe(60_000);
    expect(config.file.job_types.map((t) => t.name)).toEqual(['echo']);
  });

  it('treats empty env vars as unset', () => {
    const config = loadConfig({ env: { PORT: '', REDIS_URL: '', API_KEYS: '' } });
    expect(config.server.port).toBe(8080);
    expect(config.server.redisUrl).toBeUndefined();
    expect(config.server.apiKeys).toEqual([]);
  });

  it('lets CLI flags override env vars', () => {
    const config = loadConfig({
      env: { PORT: '9000', HOST: '0.0.0.0', LOG_LEVEL: 'debug', API_KEYS: 'from-env' },
      overrides: { port: '0', logLevel: 'warn', apiKeys: 'a,b' },
    });
    expect(config.server.port).toBe(0);
    expect(config.server.host).toBe('0.0.0.0');
    expect(config.server.logLevel).toBe('warn');
    expect(config.server.apiKeys).toEqual(['a', 'b']);
  });

  it('reports every invalid option by the name the user typed', () => {
    const error = configError(() =>
      loadConfig({
        env: { PORT: 'eighty', REDIS_URL: 'http://localhost:6379' },
        overrides: { logLevel: 'chatty' },
      }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.status).toBe(500);
    const paths = error.details?.map((d) => d.path);
    expect(paths).toEqual(expect.arrayContaining(['PORT', 'REDIS_URL', '--log-level']));
    expect(error.details?.find((d) => d.path === 'REDIS_URL')?.message).toMatch(/redis:\/\/ or rediss:\/\//);
  });

  it('rejects an invalid config file with field-level details for every problem', () => {
    const error = configError(() =>
      loadConfig({ env: { MAILROOM_CONFIG: join(fixtures, 'config-invalid.json') } }),
    );
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toContain('config-invalid.json');
    const paths = error.details?.map((d) => d.path) ?? [];
    expect(paths).toEqual(
      expect.arrayContaining([
        'max_body_bytes',
        'unknown_limit',
        'job_types.1.name',
        'job_types.2.priority',
        'job_types.2.executor',
      ]),
    );
    expect(error.details?.find((d) => d.path === 'job_types.1.name')?.message).toMatch(/duplicate/);
  });

  it('reports a config file that is not JSON or does not exist', () => {
    const malformed = configError(() =>
      loadConfig({ env: {}, overrides: { configPath: join(fixtures, 'config-malformed.jsonc.txt') } }),
    );
    expect(malformed.code).toBe('CONFIG_INVALID');
    expect(malformed.details).toEqual([
      { path: '--config', message: expect.stringMatching(/not valid JSON/) },
    ]);

    const missing = configError(() => loadConfig({ env: { MAILROOM_CONFIG: 'nope.json' }, cwd: fixtures }));
    expect(missing.details).toEqual([
      { path: 'MAILROOM_CONFIG', message: expect.stringMatching(/not found/) },
    ]);
  });

  it('reports server and file problems together', () => {
    const error = configError(() =>
      loadConfig({ env: { PORT: '70000', MAILROOM_CONFIG: join(fixtures, 'config-invalid.json') } }),
    );
    const paths = error.details?.map((d) => d.path) ?? [];
    expect(paths).toContain('PORT');
    expect(paths).toContain('job_types.2.executor');
  });

  it('returns a deeply frozen config', () => {
    const config = loadConfig({ env: { API_KEYS: 'a' } });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(Object.isFrozen(config.server.apiKeys)).toBe(true);
    expect(Object.isFrozen(config.file.job_types)).toBe(true);
    expect(Object.isFrozen(config.file.job_types[0])).toBe(true);
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});
