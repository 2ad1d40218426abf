/**
 * The one percentile definition of the project (benchmarks, `omnicap bench`, the load test, the
 * signal observer's levels, the Cloze bootstrap intervals): linear interpolation between closest
 * ranks, i.e. Hyndman & Fan type 7, the default of NumPy `percentile`, R `quantile` and Excel
 * `PERCENTILE.INC`. For sorted samples x[0..n-1] and p in [0, 100]:
 *   h = (n - 1) * p / 100,  q = x[floor(h)] + (h - floor(h)) * (x[floor(h) + 1] - x[floor(h)]).
 * p0 is the minimum and p100 the maximum; a single sample is every percentile. Unlike the
 * nearest-rank definition (x[ceil(p / 100 * n) - 1]) it does not jump from sample to sample, so
 * p99 of 50 requests is not simply the slowest one.
 */
import { OmnicapError, invalidParameterError } from '../errors';

export const PERCENTILE_DEFINITION = 'linear interpolation between closest ranks (Hyndman-Fan type 7, NumPy default)';

function checkP(p: number): void {
  if (!Number.isFinite(p) || p < 0 || p > 100) throw invalidParameterError('p', 'a percentile in [0, 100]', p);
}

/**
 * The p-th percentile of samples already sorted ascending (not copied, not checked for order or
 * finiteness: the caller sorted them). Throws INVALID_ARGUMENT for an empty array or p outside [0, 100].
 */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  checkP(p);
  if (sorted.length === 0) throw new OmnicapError('INVALID_ARGUMENT', 'percentile of an empty sample set is undefined');
  const h = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

/** The p-th percentile of finite samples in any order (the input is not modified). */
export function percentile(samples: readonly number[], p: number): number {
  checkP(p);
  for (const v of samples) if (!Number.isFinite(v)) throw invalidParameterError('samples', 'finite numbers', v);
  return percentileOfSorted([...samples].sort((a, b) => a - b), p);
}
