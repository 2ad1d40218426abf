import { parseArgs, type ParseArgsConfig } from 'node:util';

import { OmnicapError } from '../errors';
import { parseNumberText, type NumberRange } from '../schema/limits';

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
 * that requests, the engine or the LLM take too, a range of src/schema/limits.ts, so all agree and
 * a refusal reads as the server's for the same field).
 */
export function numberFlag(name: string, value: string | undefined, fallback: number, range: NumberRange = {}): number {
  return parseNumberText(`--${name}`, value, fallback, range);
}
