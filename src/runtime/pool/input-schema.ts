/**
 * JSON Schema checks of job input, shared by the inline submit path (JobFactory) and the payload
 * pool's workers, so a large payload checked on a worker thread gets exactly the same 400 details
 * as a small one checked on the event loop. Also finds the fields a schema declares binary
 * (`"contentEncoding": "base64"`), which arrive as base64 text and are kept as bytes.
 */
import type { ValidateFunction } from 'ajv';
import type { ErrorDetail } from '../../errors.js';

/** Problems with `input` (empty when valid), with paths under `pathPrefix`. */
export function inputProblems(validate: ValidateFunction, input: unknown, pathPrefix: string): ErrorDetail[] {
  if (validate(input === undefined ? {} : input)) return [];
  return (validate.errors ?? []).map((error) => {
    const pointer = error.instancePath.split('/').filter(Boolean).join('.');
    const missing =
      error.keyword === 'required'
        ? (error.params as { missingProperty?: string }).missingProperty
        : undefined;
    const path = [pathPrefix, pointer, missing].filter((part) => part).join('.');
    return { path, message: error.message ?? 'is invalid' };
  });
}

/**
 * Property paths (`["files", "0"]` style segments, objects only) whose schema says
 * `contentEncoding: base64`. Arrays are not followed: binary inside lists is left as text.
 */
export function binaryPaths(schema: unknown, at: readonly string[] = []): string[][] {
  if (schema === null || typeof schema !== 'object') return [];
  const node = schema as { contentEncoding?: unknown; properties?: Record<string, unknown> };
  if (node.contentEncoding === 'base64') return [[...at]];
  if (!node.properties || typeof node.properties !== 'object') return [];
  return Object.entries(node.properties).flatMap(([key, child]) => binaryPaths(child, [...at, key]));
}

// Standard alphabet with padding, or the URL-safe one without: what clients commonly send.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$|^[A-Za-z0-9_-]*$/;

/**
 * Replaces declared-binary base64 strings in `input` with Buffers. Copies the objects on the way
 * (the input may be shared), never the strings' bytes twice. Strings that are not base64 are problems.
 */
export function decodeBinaryFields(
  input: unknown,
  paths: readonly (readonly string[])[],
  pathPrefix: string,
): { value: unknown; problems: ErrorDetail[] } {
  const problems: ErrorDetail[] = [];
  let value = input;
  for (const path of paths) {
    value = replaceAt(value, path, 0, (text, where) => {
      if (!BASE64.test(text)) {
        problems.push({ path: [pathPrefix, ...where].join('.'), message: 'must be base64' });
        return text;
      }
      return Buffer.from(text, text.includes('-') || text.includes('_') ? 'base64url' : 'base64');
    });
  }
  return { value, problems };
}

function replaceAt(
  value: unknown,
  path: readonly string[],
  index: number,
  convert: (text: string, where: readonly string[]) => unknown,
): unknown {
  if (index === path.length) return typeof value === 'string' ? convert(value, path) : value;
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) {
    return value;
  }
  const key = path[index]!;
  if (!Object.hasOwn(value, key)) return value;
  const record = value as Record<string, unknown>;
  const next = replaceAt(record[key], path, index + 1, convert);
  return next === record[key] ? value : { ...record, [key]: next };
}
