/** Seeded percentile bootstrap over units (clips, questions): resample units with replacement. */
import { mulberry32 } from './prompt';

export interface Interval {
  low: number;
  high: number;
}

function percentile(sorted: number[], q: number): number {
  const idx = Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))));
  return sorted[idx];
}

/**
 * 95 % percentile intervals of `stats` over `samples` resamples of `units`. Each resample pools
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
    return [k, { low: percentile(s, 0.025), high: percentile(s, 0.975) }];
  })) as Record<K, Interval>;
}
