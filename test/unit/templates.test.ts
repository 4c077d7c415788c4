/**
 * Step input templates as pure logic: parsing references, collecting them for validation, and
 * resolving them with types kept for whole-string references and text for embedded ones.
 */
import { describe, expect, it } from 'vitest';
import {
  collectReferences,
  hasTemplates,
  parseReference,
  resolveTemplates,
  type TemplateContext,
  TemplateError,
} from '../../src/actors/templates.js';

const context: TemplateContext = {
  input: { n: 3, s: 'txt', flag: true, nil: null, list: [10, { deep: 'x' }], obj: { a: { b: 2 } } },
  outputs: new Map<string, unknown>([
    ['render', { url: 'u', sizes: [1, 2], meta: { w: 4 } }],
    ['plain', 'just text'],
    ['zero', 0],
  ]),
};

function templateError(run: () => unknown): TemplateError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(TemplateError);
    return error as TemplateError;
  }
  throw new Error('expected a TemplateError');
}

describe('parseReference', () => {
  it('parses input and step references with their paths', () => {
    expect(parseReference('input')).toEqual({ source: 'input', path: [] });
    expect(parseReference('input.a.0.b')).toEqual({ source: 'input', path: ['a', '0', 'b'] });
    expect(parseReference('steps.my-step.output')).toEqual({ source: 'step', step: 'my-step', path: [] });
    expect(parseReference('steps.s_1.output.x. y ')).toEqual({
      source: 'step',
      step: 's_1',
      path: ['x', 'y'],
    });
  });

  it.each([
    ['', 'malformed reference ""'],
    ['input.', 'malformed reference "input."'],
    ['input..x', 'malformed reference "input..x"'],
    ['.input', 'malformed reference ".input"'],
    ['inputs.x', 'unknown reference "inputs.x"'],
    ['steps.a', 'unknown reference "steps.a"'],
    ['steps.a.result.x', 'unknown reference "steps.a.result.x"'],
    ['env.HOME', 'unknown reference "env.HOME"'],
  ])('rejects %j', (expression, message) => {
    const error = templateError(() => parseReference(expression));
    expect(error.message).toContain(message);
    expect(error.expression).toBe(expression);
  });
});

describe('collectReferences', () => {
  it('finds every reference in nested arrays and objects, in order', () => {
    const value = {
      a: '{{ input.x }} and {{steps.b.output.y}}',
      list: [1, null, ['{{ steps.c.output }}'], { deep: { er: '{{ input }}' } }],
      plain: 'no templates',
      n: 5,
    };
    expect(collectReferences(value)).toEqual([
      { source: 'input', path: ['x'] },
      { source: 'step', step: 'b', path: ['y'] },
      { source: 'step', step: 'c', path: [] },
      { source: 'input', path: [] },
    ]);
    expect(collectReferences(undefined)).toEqual([]);
    expect(collectReferences('{ input.x }')).toEqual([]);
  });

  it('throws on the first malformed reference anywhere in the value', () => {
    expect(templateError(() => collectReferences({ a: [{ b: ['ok', '{{ nope }}'] }] })).expression).toBe(
      'nope',
    );
    expect(templateError(() => collectReferences('{{}}')).message).toContain('malformed');
  });
});

describe('hasTemplates', () => {
  it('looks through arrays and objects', () => {
    expect(hasTemplates({ a: [1, { b: 'x {{ input.y }}' }] })).toBe(true);
    expect(hasTemplates({ a: [1, { b: 'x' }], c: null })).toBe(false);
    expect(hasTemplates(7)).toBe(false);
  });
});

describe('resolveTemplates', () => {
  it('gives a whole-string reference the referenced value with its type', () => {
    expect(resolveTemplates('{{ input.n }}', context)).toBe(3);
    expect(resolveTemplates('{{input.flag}}', context)).toBe(true);
    expect(resolveTemplates('{{ input.nil }}', context)).toBeNull();
    expect(resolveTemplates('{{ input.obj }}', context)).toEqual({ a: { b: 2 } });
    expect(resolveTemplates('{{ input.list }}', context)).toEqual([10, { deep: 'x' }]);
    expect(resolveTemplates('{{ input.list.1.deep }}', context)).toBe('x');
    expect(resolveTemplates('{{ steps.render.output.sizes }}', context)).toEqual([1, 2]);
    expect(resolveTemplates('{{ steps.zero.output }}', context)).toBe(0);
    expect(resolveTemplates('{{ input }}', context)).toEqual(context.input);
  });

  it('interpolates references inside longer strings as text (JSON for non-strings)', () => {
    expect(resolveTemplates('n={{ input.n }}', context)).toBe('n=3');
    expect(resolveTemplates(' {{ input.s }}', context)).toBe(' txt');
    expect(resolveTemplates('{{ input.s }}{{ input.n }}', context)).toBe('txt3');
    expect(resolveTemplates('{{ input.obj }}!', context)).toBe('{"a":{"b":2}}!');
    expect(resolveTemplates('[{{ input.nil }}|{{ input.flag }}]', context)).toBe('[null|true]');
    expect(resolveTemplates('{{ steps.plain.output }} and {{ steps.render.output.meta.w }}', context)).toBe(
      'just text and 4',
    );
    expect(resolveTemplates('unclosed {{ input.n', context)).toBe('unclosed {{ input.n');
  });

  it('resolves inside nested arrays and objects and leaves other values alone', () => {
    const value = {
      a: ['{{ input.n }}', { b: ['{{ steps.render.output.meta }}', 'w={{ steps.render.output.meta.w }}'] }],
      keep: [1, false, null, 'plain', { x: 2 }],
    };
    expect(resolveTemplates(value, context)).toEqual({
      a: [3, { b: [{ w: 4 }, 'w=4'] }],
      keep: [1, false, null, 'plain', { x: 2 }],
    });
    expect(resolveTemplates(undefined, context)).toBeUndefined();
    expect(resolveTemplates(42, context)).toBe(42);
  });

  it('fails on a missing path, a step without output, or a path through a non-object', () => {
    expect(templateError(() => resolveTemplates('{{ input.missing }}', context)).message).toContain(
      'no value at "missing"',
    );
    expect(
      templateError(() => resolveTemplates({ a: ['x {{ steps.ghost.output }}'] }, context)).message,
    ).toContain('step "ghost" has no output');
    expect(templateError(() => resolveTemplates('{{ input.n.x }}', context)).expression).toBe('input.n.x');
    expect(templateError(() => resolveTemplates('{{ input.list.5 }}', context)).expression).toBe(
      'input.list.5',
    );
    expect(templateError(() => resolveTemplates('{{ input.nil.x }}', context)).expression).toBe(
      'input.nil.x',
    );
    expect(templateError(() => resolveTemplates('{{ input.obj.constructor }}', context)).message).toContain(
      'no value at "constructor"',
    );
    expect(templateError(() => resolveTemplates('{{ steps.plain.output.length }}', context)).expression).toBe(
      'steps.plain.output.length',
    );
  });
});
