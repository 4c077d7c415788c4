/**
 * Step input templates: `{{ input.x }}` (the workflow's input) and `{{ steps.<name>.output.<path> }}`.
 * A string that is exactly one reference takes the referenced value with its type; references
 * inside a longer string are interpolated as text. Resolution happens when a step becomes ready.
 */

const REFERENCE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const WHOLE_REFERENCE = /^\{\{\s*([^{}]*?)\s*\}\}$/;

export interface TemplateContext {
  input: unknown;
  /** Completed steps' outputs by step name. */
  outputs: ReadonlyMap<string, unknown>;
}

export type Reference =
  | { source: 'input'; path: string[] }
  | { source: 'step'; step: string; path: string[] };

export class TemplateError extends Error {
  constructor(
    message: string,
    readonly expression: string,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Parses `input.a.b` or `steps.name.output.a.0`; throws TemplateError for anything else. */
export function parseReference(expression: string): Reference {
  const parts = expression.split('.').map((part) => part.trim());
  if (parts.some((part) => part.length === 0))
    throw new TemplateError(`malformed reference "${expression}"`, expression);
  if (parts[0] === 'input') return { source: 'input', path: parts.slice(1) };
  if (parts[0] === 'steps' && parts.length >= 3 && parts[2] === 'output') {
    return { source: 'step', step: parts[1]!, path: parts.slice(3) };
  }
  throw new TemplateError(
    `unknown reference "${expression}": use {{ input.<path> }} or {{ steps.<name>.output.<path> }}`,
    expression,
  );
}

/** Every reference in a value (for validation at submit time). */
export function collectReferences(value: unknown, found: Reference[] = []): Reference[] {
  if (typeof value === 'string') {
    for (const match of value.matchAll(REFERENCE)) found.push(parseReference(match[1]!));
  } else if (Array.isArray(value)) {
    for (const item of value) collectReferences(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) collectReferences(item, found);
  }
  return found;
}

export function hasTemplates(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{');
  if (Array.isArray(value)) return value.some(hasTemplates);
  if (value !== null && typeof value === 'object') return Object.values(value).some(hasTemplates);
  return false;
}

/** Resolves every template in `value`; throws TemplateError naming the first missing path. */
export function resolveTemplates(value: unknown, context: TemplateContext): unknown {
  if (typeof value === 'string') return resolveString(value, context);
  if (Array.isArray(value)) return value.map((item) => resolveTemplates(item, context));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) out[key] = resolveTemplates(item, context);
    return out;
  }
  return value;
}

function resolveString(text: string, context: TemplateContext): unknown {
  if (!text.includes('{{')) return text;
  const whole = WHOLE_REFERENCE.exec(text);
  if (whole) return lookup(whole[1]!, context);
  return text.replace(REFERENCE, (_match, expression: string) => {
    const found = lookup(expression, context);
    return typeof found === 'string' ? found : JSON.stringify(found);
  });
}

function lookup(expression: string, context: TemplateContext): unknown {
  const reference = parseReference(expression);
  let current: unknown;
  if (reference.source === 'input') {
    current = context.input;
  } else {
    if (!context.outputs.has(reference.step)) {
      throw new TemplateError(`{{ ${expression} }}: step "${reference.step}" has no output`, expression);
    }
    current = context.outputs.get(reference.step);
  }
  for (const key of reference.path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) {
      throw new TemplateError(`{{ ${expression} }}: no value at "${key}"`, expression);
    }
    current = (current as Record<string, unknown>)[key];
  }
  if (current === undefined) throw new TemplateError(`{{ ${expression} }}: value is undefined`, expression);
  return current;
}
