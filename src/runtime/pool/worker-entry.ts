/**
 * Where a worker thread's entry file is. Built, it is the `.js` beside the caller; under tsx
 * (tests, benches run from source) it is the `.ts`, and the thread needs tsx's loader too, since
 * Node 20 cannot load TypeScript in a worker on its own.
 */
import { fileURLToPath } from 'node:url';

export interface WorkerEntry {
  filename: string;
  /** Undefined: the thread inherits the process's flags, as Node does by default. */
  execArgv: string[] | undefined;
}

export function workerEntry(callerUrl: string, basename: string): WorkerEntry {
  const fromSource = callerUrl.endsWith('.ts');
  const filename = fileURLToPath(new URL(`./${basename}.${fromSource ? 'ts' : 'js'}`, callerUrl));
  return { filename, execArgv: fromSource ? ['--import', 'tsx'] : undefined };
}
