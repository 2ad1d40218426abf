/** Seeded percentile bootstrap over units (clips, questions): resample units with replacement. */
import { percentileOfSorted } from '../util/percentile';
import { mulberry32 } from './prompt';

export interface Interval {
  low: number;
  high: number;
}

/**
 * 95 % percentile intervals (the project's one percentile definition) of `stats` over `samples` resamples of `units`. Each resample pools
 * its units' counts with `add` into `zero()` and evaluates every stat on the pool, so ratios are
 * ratios of sums (per-clip resampling keeps a clip's blanks together). Empty input gives no interval.
 */
export function bootstrapIntervals<C, K extends string>(
  units: readonly C[],
  zero: () => C,
  add: (into: C, unit: C) => void,
  stats: Record<K, (pooled: C) => number>,
  samples: number,
  seed: number,
): Record<K, Interval> | undefined {
  if (samples <= 0 || units.length === 0) return undefined;
  const rnd = mulberry32(seed);
  const keys = Object.keys(stats) as K[];
  const values = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>;
  for (let i = 0; i < samples; i++) {
    const pooled = zero();
    for (let j = 0; j < units.length; j++) add(pooled, units[Math.floor(rnd() * units.length)]);
    for (const k of keys) values[k].push(stats[k](pooled));
  }
  return Object.fromEntries(keys.map((k) => {
    const s = [...values[k]].sort((a, b) => a - b);
    return [k, { low: percentileOfSorted(s, 2.5), high: percentileOfSorted(s, 97.5) }];
  })) as Record<K, Interval>;
}
