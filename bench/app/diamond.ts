/** The 4-step diamond of the workflow targets (a → b, a → c, b + c → d), every step `echo`. */
export const DIAMOND = {
  name: 'diamond',
  steps: [
    { name: 'a', type: 'echo', input: { n: 1 } },
    { name: 'b', type: 'echo', input: { v: '{{ steps.a.output.n }}' }, depends_on: ['a'] },
    { name: 'c', type: 'echo', input: { v: '{{ steps.a.output.n }}' }, depends_on: ['a'] },
    { name: 'd', type: 'echo', depends_on: ['b', 'c'] },
  ],
};
