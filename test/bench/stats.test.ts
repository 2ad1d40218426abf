import { linearFit, summarize } from '../../src/bench/stats';
import { OmnicapError } from '../../src/errors';

describe('summarize', () => {
  it('mean, sample stdev, min/max and percentiles', () => {
    const s = summarize([2, 4, 4, 4, 5, 5, 7, 9]);
    expect(s.n).toBe(8);
    expect(s.mean).toBe(5);
    // sum of squared deviations = 32; / 7
    expect(s.stdev).toBeCloseTo(Math.sqrt(32 / 7), 12);
    expect(s.min).toBe(2);
    expect(s.max).toBe(9);
    // h = 7 * 0.5 = 3.5 -> 4 + 0.5 * 1 = 4.5 ; p95 h = 6.65 -> 7 + 0.65 * 2 = 8.3
    expect(s.p50).toBeCloseTo(4.5, 12);
    expect(s.p95).toBeCloseTo(8.3, 12);
    expect(summarize([3]).stdev).toBe(0);
  });
});

describe('linearFit', () => {
  it('recovers an exact line and a noisy one', () => {
    const f = linearFit([1, 2, 3, 4], [5, 7, 9, 11]);
    expect(f.slope).toBeCloseTo(2, 12);
    expect(f.intercept).toBeCloseTo(3, 12);
    expect(f.r2).toBeCloseTo(1, 12);
    // x 0 1 2, y 0 2 1: mx=1 my=1 sxy=1 sxx=2 -> slope .5 intercept .5; syy=2 -> r2 = 1/4
    const g = linearFit([0, 1, 2], [0, 2, 1]);
    expect(g.slope).toBeCloseTo(0.5, 12);
    expect(g.intercept).toBeCloseTo(0.5, 12);
    expect(g.r2).toBeCloseTo(0.25, 12);
  });
  it('rejects degenerate input', () => {
    expect(() => linearFit([1], [1])).toThrow(OmnicapError);
    expect(() => linearFit([2, 2], [1, 3])).toThrow(/distinct/);
  });
});
