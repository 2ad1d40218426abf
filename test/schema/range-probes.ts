/** Values to walk a range of src/schema/limits.ts with, and the error a check throws, for the range tests. */
import type { OmnicapError } from '../../src/errors';
import type { NumberRange } from '../../src/schema';

/** The bounds, just inside and outside them, the middle, and a fraction for integer ranges. */
export function probes(r: NumberRange): number[] {
  const lo = r.min ?? r.above ?? 0;
  const hi = r.max ?? lo + 10;
  const out = [lo, hi, lo - 0.5, hi + 0.5, lo - 1, hi + 1, (lo + hi) / 2];
  if (r.integer === true) out.push(lo + 0.5);
  if (r.above !== undefined) out.push(r.above + 1e-9);
  return [...new Set(out)];
}

/** The error `f` throws, or undefined when it returns. */
export function failure(f: () => unknown): OmnicapError | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return e as OmnicapError;
  }
}
