import { describe, expect, it } from 'vitest';
import { median, metricsOf, splitArgs, summarize } from '../../bench/runtime/ab-summary.js';

describe('A/B summary', () => {
  it('takes the median of odd and even counts, NaN of none', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('summarizes pairs by their ratios, not by the ratio of averages', () => {
    const s = summarize([
      { base: 100, head: 110 },
      { base: 50, head: 45 },
      { base: 80, head: 100 },
    ]);
    expect(s).toMatchObject({ pairs: 3, baseMedian: 80, headMedian: 100, headHigher: 2 });
    expect(s.ratioMedian).toBeCloseTo(1.1);
    expect(s.ratioMin).toBeCloseTo(0.9);
    expect(s.ratioMax).toBeCloseTo(1.25);
  });

  it('splits its flags from the bench, runs the compiled script and asks it for JSON', () => {
    expect(splitArgs(['--base', 'abc', '--', 'bench/app/throughput.ts', '--variant', 'jobs-memory'])).toEqual(
      {
        own: ['--base', 'abc'],
        script: 'dist/bench/app/throughput.js',
        scriptArgs: ['--variant', 'jobs-memory', '--json'],
      },
    );
    expect(splitArgs(['--', 'bench/runtime/ask-memory.ts', '--json']).scriptArgs).toEqual(['--json']);
    expect(() => splitArgs(['--base', 'abc'])).toThrow(/after --/);
    expect(() => splitArgs(['--', 'src/cli.ts'])).toThrow(/not a bench script/);
  });

  it("reads each variant's metric from the last JSON line", () => {
    const stdout = [
      'variant  throughput',
      '{"not":"this one"}',
      JSON.stringify({
        bench: 'x',
        results: [
          { variant: 'a', rate: 10 },
          { variant: 'b', rate: 20.5 },
        ],
      }),
    ].join('\n');
    expect([...metricsOf(stdout, 'rate')]).toEqual([
      ['a', 10],
      ['b', 20.5],
    ]);
    expect(() => metricsOf(stdout, 'missing')).toThrow(/no number "missing"/);
    expect(() => metricsOf('no json here', 'rate')).toThrow(/no JSON line/);
  });
});
