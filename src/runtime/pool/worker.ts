/**
 * The payload pool's thread entry (piscina loads it once per thread). Compiles the job types'
 * schemas once, then prepares payloads and computes checksums. Results move back without a copy
 * where safe (see prepare.ts); every failure returns as an error record.
 */
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { checksumOf, checksumOfJson } from './checksum.js';
import { Preparer, type PrepareTask, type TypeSchema } from './prepare.js';

export type PoolTask =
  | ({ kind: 'prepare' } & PrepareTask)
  | { kind: 'checksum'; data: unknown }
  | { kind: 'checksum-json'; json: Uint8Array };

const preparer = new Preparer((workerData as { types: TypeSchema[] }).types);

export default function run(task: PoolTask): unknown {
  if (task.kind === 'checksum') return checksumOf(task.data);
  if (task.kind === 'checksum-json') return checksumOfJson(task.json);
  const transfer: ArrayBuffer[] = [];
  const result = preparer.prepare(task, transfer);
  if (transfer.length === 0) return result;
  // piscina's protocol for "send this value, transferring these buffers".
  return move({ [transferableSymbol]: transfer, [valueSymbol]: result } as never);
}
