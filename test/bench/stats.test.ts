import { linearFit, percentile, summarize } from '../../src/bench/stats';
import { OmnicapError } from '../../src/errors';

describe('percentile (type 7, linear interpolation between closest ranks)', () => {
  // sorted: 1 2 3 4 5 6 7 8 9 10 (given unsorted on purpose)
  const ten = [7, 1, 10, 3, 5, 2, 9, 4, 8, 6];
  it('matches hand-computed values', () => {
    // h = 9 * 0.5 = 4.5 -> x[4] + 0.5 (x[5] - x[4]) = 5 + 0.5 = 5.5
    expect(percentile(ten, 50)).toBeCloseTo(5.5, 12);
    // h = 9 * 0.95 = 8.55 -> 9 + 0.55 * 1 = 9.55
    expect(percentile(ten, 95)).toBeCloseTo(9.55, 12);
    // h = 9 * 0.99 = 8.91 -> 9.91
    expect(percentile(ten, 99)).toBeCloseTo(9.91, 12);
    // h = 9 * 0.25 = 2.25 -> 3.25
    expect(percentile(ten, 25)).toBeCloseTo(3.25, 12);
    expect(percentile(ten, 0)).toBe(1);
    expect(percentile(ten, 100)).toBe(10);
  });
  it('interpolates unequal gaps', () => {
    // sorted 10 20 40 80: p50 h = 1.5 -> 20 + 0.5*20 = 30; p90 h = 2.7 -> 40 + 0.7*40 = 68
    expect(percentile([80, 10, 40, 20], 50)).toBeCloseTo(30, 12);
    expect(percentile([80, 10, 40, 20], 90)).toBeCloseTo(68, 12);
  });
  it('single sample is every percentile; does not mutate input', () => {
    expect(percentile([42], 99)).toBe(42);
    const input = [3, 1, 2];
    percentile(input, 50);
    expect(input).toEqual([3, 1, 2]);
  });
  it('rejects empty sets, bad p and non-finite samples with typed errors', () => {
    expect(() => percentile([], 50)).toThrow(OmnicapError);
    expect(() => percentile([1], 101)).toThrow(/percentile in \[0, 100\]/);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(OmnicapError);
  });
});

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
