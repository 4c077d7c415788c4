/**
 * The server's V8 flags are spelled out where a process starts (`npm start`, the `mailroom`
 * shebang); this keeps them in step with src/node-flags.ts, which the bench harness uses.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVER_NODE_FLAGS } from '../../src/node-flags.js';

const root = join(import.meta.dirname, '..', '..');

describe('server node flags', () => {
  it('npm start runs the server with them', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: { start: string };
    };
    expect(pkg.scripts.start).toBe(`node ${SERVER_NODE_FLAGS.join(' ')} dist/src/cli.js serve`);
  });

  it('the mailroom command starts node with them', () => {
    const shebang = readFileSync(join(root, 'src', 'cli.ts'), 'utf8').split('\n')[0];
    expect(shebang).toBe(`#!/usr/bin/env -S node ${SERVER_NODE_FLAGS.join(' ')}`);
  });
});
