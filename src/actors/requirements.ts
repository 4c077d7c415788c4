/**
 * What a job needs from the worker that runs it, and whether a worker has it. The image types
 * of the default config grow their GPU need with the request: `parameters.high_quality` adds
 * 4 GB and every image beyond the first in `parameters.batch_size` adds 2 GB.
 */
import type { JobTypeConfig, Requirements } from '../schemas/config.js';

export interface NeededResources {
  gpuMemoryGb: number;
  capabilities: readonly string[];
}

const HIGH_QUALITY_EXTRA_GB = 4;
const EXTRA_IMAGE_GB = 2;

export function neededResources(
  type: JobTypeConfig,
  input: unknown,
  override: Requirements | undefined,
): NeededResources {
  const base = override?.gpu_memory_gb ?? type.requirements?.gpu_memory_gb ?? 0;
  const capabilities = override?.capabilities ?? type.requirements?.capabilities ?? [];
  let gpu = base;
  // Only GPU-bound types scale with the request; a CPU type stays at zero.
  if (base > 0 && input !== null && typeof input === 'object') {
    const parameters = (input as { parameters?: unknown }).parameters;
    if (parameters !== null && typeof parameters === 'object') {
      const { high_quality: highQuality, batch_size: batchSize } = parameters as Record<string, unknown>;
      if (highQuality === true) gpu += HIGH_QUALITY_EXTRA_GB;
      if (typeof batchSize === 'number' && Number.isInteger(batchSize) && batchSize > 1) {
        gpu += (batchSize - 1) * EXTRA_IMAGE_GB;
      }
    }
  }
  if (override === undefined && gpu === base) return typeNeeds(type, gpu, capabilities);
  return { gpuMemoryGb: gpu, capabilities };
}

/**
 * What every job of a type needs when nothing in its request changes that: one frozen object per
 * type, shared, rather than one per job held for the job's whole retention.
 */
const TYPE_NEEDS = new WeakMap<JobTypeConfig, NeededResources>();

function typeNeeds(type: JobTypeConfig, gpu: number, capabilities: readonly string[]): NeededResources {
  let needs = TYPE_NEEDS.get(type);
  if (needs === undefined) {
    needs = Object.freeze({ gpuMemoryGb: gpu, capabilities: Object.freeze([...capabilities]) });
    TYPE_NEEDS.set(type, needs);
  }
  return needs;
}

export function workerSatisfies(
  needed: NeededResources,
  worker: { gpuMemoryGb: number; labels: readonly string[] },
): boolean {
  if (needed.gpuMemoryGb > worker.gpuMemoryGb) return false;
  for (const capability of needed.capabilities) if (!worker.labels.includes(capability)) return false;
  return true;
}
