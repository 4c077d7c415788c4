/**
 * A server for the pool benches: `startServer` with the built-in config, the payload pool set from
 * the command line, and a short retention so large completed jobs do not pile up in memory.
 *
 *   node --import tsx bench/pool/serve.ts <port> <pool on|off> [threshold bytes]
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtInConfigPath, loadConfig } from '../../src/config.js';
import { startServer } from '../../src/main.js';

const [port = '0', mode = 'on', threshold] = process.argv.slice(2);
const dir = mkdtempSync(join(tmpdir(), 'mailroom-pool-bench-'));
const configPath = join(dir, 'config.json');
const builtIn = JSON.parse(readFileSync(builtInConfigPath(), 'utf8')) as Record<string, unknown>;
writeFileSync(
  configPath,
  JSON.stringify({
    ...builtIn,
    retention_ms: 2_000,
    pool: { enabled: mode === 'on', ...(threshold ? { threshold_bytes: Number(threshold) } : {}) },
  }),
);
const config = loadConfig({ env: {}, overrides: { port, host: '127.0.0.1', configPath, logLevel: 'warn' } });
const server = await startServer(config);
process.stdout.write(`listening ${server.port}\n`);
