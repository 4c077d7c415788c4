/**
 * The entry of a thread executor's thread: loads the type's module (named in workerData), runs its
 * `setup()` once, and serves `handle(job, ctx)` calls from the event loop through comlink. One job
 * at a time per thread; state the module keeps between jobs (caches, warm models) stays here.
 */
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import * as Comlink from 'comlink';
import { nodeEndpoint } from './node-endpoint.js';
import type { ThreadContext, ThreadHostApi, ThreadJob, ThreadModule } from './thread-api.js';

const { modulePath } = workerData as { modulePath: string };
let loaded: ThreadModule | undefined;

const api: ThreadHostApi = {
  async setup() {
    const module = (await import(pathToFileURL(modulePath).href)) as Partial<ThreadModule> & {
      default?: Partial<ThreadModule>;
    };
    const exports = typeof module.handle === 'function' ? module : (module.default ?? {});
    if (typeof exports.handle !== 'function') {
      throw new Error(`${modulePath} exports no handle(job, ctx) function`);
    }
    if (typeof exports.setup === 'function') await exports.setup();
    loaded = exports as ThreadModule;
  },
  async handle(job: ThreadJob, ctx: ThreadContext) {
    if (!loaded) throw new Error('handle() before setup()');
    try {
      return await loaded.handle(job, ctx);
    } finally {
      // The proxy holds a MessagePort open; release it or every job leaks one.
      (ctx as Comlink.Remote<ThreadContext>)[Comlink.releaseProxy]();
    }
  },
};

if (!parentPort) throw new Error('thread-host runs only inside a worker thread');
Comlink.expose(api, nodeEndpoint(parentPort));
