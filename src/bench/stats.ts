/** Latency statistics for benchmarks (percentiles: src/util/percentile.ts). */
import { OmnicapError } from '../errors';
import { percentile } from '../util/percentile';

export interface Summary {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1 denominator); 0 for a single sample. */
  stdev: number;
  min: number;
  max: number;
  p50: number;
  p95: number;
  p99: number;
}

export function summarize(samples: readonly number[]): Summary {
  const n = samples.length;
  if (n === 0) throw new OmnicapError('INVALID_ARGUMENT', 'cannot summarize an empty sample set');
  const mean = samples.reduce((a, b) => a + b, 0) / n;
  const variance = n > 1 ? samples.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1) : 0;
  return {
    n,
    mean,
    stdev: Math.sqrt(variance),
    min: Math.min(...samples),
    max: Math.max(...samples),
    p50: percentile(samples, 50),
    p95: percentile(samples, 95),
    p99: percentile(samples, 99),
  };
}

export interface LinearFit {
  slope: number;
  intercept: number;
  /** Coefficient of determination. */
  r2: number;
}

/** Ordinary least squares y = slope * x + intercept. */
export function linearFit(xs: readonly number[], ys: readonly number[]): LinearFit {
  if (xs.length !== ys.length || xs.length < 2) throw new OmnicapError('INVALID_ARGUMENT', `linear fit needs >= 2 paired points (got ${xs.length} x and ${ys.length} y)`);
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
    syy += (ys[i] - my) ** 2;
  }
  if (sxx === 0) throw new OmnicapError('INVALID_ARGUMENT', 'linear fit needs at least two distinct x values');
  const slope = sxy / sxx;
  const r2 = syy === 0 ? 1 : (sxy * sxy) / (sxx * syy);
  return { slope, intercept: my - slope * mx, r2 };
}
