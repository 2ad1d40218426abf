/**
 * fast-check settings for the property tests of the untrusted-input parsers.
 *
 * CI (`npx jest test/property`): a fixed seed and a modest number of runs, so a run is
 * reproducible. `npm run fuzz` sets OMNICAP_FC_SEED=random and OMNICAP_FC_SCALE (more runs per
 * property); a failure prints the seed and the shrunk counterexample, which
 * `OMNICAP_FC_SEED=<seed> npx jest test/property/<file>` replays.
 */
import fc from 'fast-check';
import { isOmnicapError, type ErrorCode } from '../../src/errors';

/** The seed of every CI run (any fixed value; changed only on purpose). */
const DEFAULT_SEED = 20_260_401;

function envInt(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '' || raw === 'random') return undefined;
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new Error(`${name} must be an integer or "random" but is ${JSON.stringify(raw)}`);
  return n;
}

const randomSeed = process.env.OMNICAP_FC_SEED === 'random';
const scale = envInt('OMNICAP_FC_SCALE') ?? 1;

/** Applies the seed for this test file (called once per file, in beforeAll). */
export function configureProperties(): void {
  const seed = randomSeed ? undefined : (envInt('OMNICAP_FC_SEED') ?? DEFAULT_SEED);
  fc.configureGlobal(seed === undefined ? {} : { seed });
}

/** Runs of one property: `base` in CI, `base` x OMNICAP_FC_SCALE in a fuzz run. */
export function runs(base: number): number {
  return Math.max(1, Math.round(base * scale));
}

/**
 * The hang guard of one async case: generous, it only turns a hang into a failure (how fast a
 * parser is belongs in benchmarks).
 */
export const CASE_TIMEOUT_MS = 30_000;

function notTyped(e: unknown): Error {
  const name = typeof e === 'object' && e !== null && typeof (e as { name?: unknown }).name === 'string' ? (e as { name: string }).name : typeof e;
  return new Error(`threw a ${name} instead of an OmnicapError: ${String(e)}`, { cause: e });
}

/** Runs `f`: returns its value, or the code of the OmnicapError it threw; anything else thrown fails the test. */
export function outcome<T>(f: () => T): { ok: true; value: T } | { ok: false; code: ErrorCode; message: string } {
  try {
    return { ok: true, value: f() };
  } catch (e) {
    if (!isOmnicapError(e)) throw notTyped(e);
    return { ok: false, code: e.code, message: e.message };
  }
}

/** Async {@link outcome}. */
export async function outcomeAsync<T>(f: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: ErrorCode; message: string }> {
  try {
    return { ok: true, value: await f() };
  } catch (e) {
    if (!isOmnicapError(e)) throw notTyped(e);
    return { ok: false, code: e.code, message: e.message };
  }
}
