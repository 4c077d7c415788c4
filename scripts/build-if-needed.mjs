// `npm start` runs this first: build only when dist is missing or older than its sources, so a
// fresh clone works with `npm install && npm start` and a restart stays instant.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const output = join(root, 'dist', 'src', 'cli.js');

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = 0;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

const inputs = ['src', 'config', 'tsconfig.json', 'tsconfig.build.json'].map((p) => join(root, p));
const stale = !existsSync(output) || inputs.some((p) => newestMtime(p) > statSync(output).mtimeMs);

if (stale) {
  console.error('mailroom: building (dist is missing or older than src)…');
  const result = spawnSync('npm', ['run', 'build'], {
    cwd: root,
    stdio: 'inherit',
    shell: process.platform === 'win32',
  });
  process.exit(result.status ?? 1);
}
