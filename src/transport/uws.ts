/**
 * Loads uWebSockets.js, refusing to start on a Node ABI without its native binary: there the
 * package silently falls back to a slow `ws` shim that lacks features the server relies on.
 */

import type * as UWS from 'uWebSockets.js';
import { createRequire } from 'node:module';

export type Uws = typeof UWS;

/** The Node ABI (`process.versions.modules`) of Node 20, the only one this build ships for. */
export const REQUIRED_NODE_ABI = '115';

let loaded: Uws | undefined;

export function loadUws(): Uws {
  if (loaded) return loaded;
  if (process.versions.modules !== REQUIRED_NODE_ABI) {
    throw new Error(
      `mailroom needs Node 20 (ABI ${REQUIRED_NODE_ABI}) for the native uWebSockets.js binary; ` +
        `this is Node ${process.versions.node} (ABI ${process.versions.modules}). Switch to Node 20, e.g. \`nvm use 20\`.`,
    );
  }
  // A CommonJS native addon: require keeps every export, which ESM's static analysis of it would not.
  loaded = createRequire(import.meta.url)('uWebSockets.js') as Uws;
  return loaded;
}
