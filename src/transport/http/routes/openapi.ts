/**
 * `GET /openapi.json`: the OpenAPI 3.1 document (transport/openapi.ts), built on the first request
 * and then served as the same cached bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../../openapi.js';
import type { HttpReply } from '../exchange.js';
import type { Router } from '../router.js';

export function addOpenApiRoute(router: Router, version = packageVersion()): void {
  let reply: HttpReply | undefined;
  router.add('GET', '/openapi.json', () => {
    reply ??= {
      status: 200,
      raw: { payload: Buffer.from(JSON.stringify(buildOpenApiDocument(version))), type: 'application/json' },
      headers: { 'cache-control': 'no-cache' },
    };
    return reply;
  });
}

/** The version in package.json (found upwards from this file, from src/ and from dist/src/ alike). */
function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'mailroom' && pkg.version) return pkg.version;
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}
