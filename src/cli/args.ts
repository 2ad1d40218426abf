import { parseArgs, type ParseArgsConfig } from 'node:util';

import { OmnicapError } from '../errors';
import { describeRange, inRange, parseDecimal, type NumberRange } from '../schema/limits';

type Options = NonNullable<ParseArgsConfig['options']>;
/** Parsed flags and positionals for a given option table. */
export type ParsedCommandArgs<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>>;

/** Strict flag parsing shared by all commands; unknown flags are a typed error. */
export function parseCommandArgs<O extends Options>(argv: string[], options: O): ParsedCommandArgs<O> {
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new OmnicapError('INVALID_ARGUMENT', e instanceof Error ? e.message : String(e));
  }
}

/**
 * A numeric flag: plain decimal notation (no `0x10`, no `Infinity`), within `range` (for options
 * that requests and the engine take too, a range of src/schema/limits.ts, so all three agree).
 */
export function numberFlag(name: string, value: string | undefined, fallback: number, range: NumberRange = {}): number {
  if (value === undefined) return fallback;
  const n = parseDecimal(value);
  if (n === undefined || !inRange(n, range)) throw new OmnicapError('INVALID_ARGUMENT', `--${name} expects ${describeRange(range)} but received ${JSON.stringify(value)}`, { details: { parameter: `--${name}` } });
  return n;
}
