// tsc copies only what it compiles; the Lua scripts are read from disk beside the compiled store.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const from = join(root, 'src', 'runtime', 'store', 'lua');
const to = join(root, 'dist', 'src', 'runtime', 'store', 'lua');

const scripts = existsSync(from) ? readdirSync(from).filter((name) => name.endsWith('.lua')) : [];
mkdirSync(to, { recursive: true });
for (const name of scripts) copyFileSync(join(from, name), join(to, name));
console.log(`copy-assets: ${scripts.length} Lua script(s) copied to dist/src/runtime/store/lua`);
