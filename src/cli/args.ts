import { parseArgs, type ParseArgsConfig } from 'node:util';

import { OmnicapError } from '../errors';

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

export function numberFlag(name: string, value: string | undefined, fallback: number, opts: { min?: number; max?: number; integer?: boolean } = {}): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  const bad =
    !Number.isFinite(n) ||
    (opts.integer === true && !Number.isInteger(n)) ||
    (opts.min !== undefined && n < opts.min) ||
    (opts.max !== undefined && n > opts.max);
  if (bad) {
    const range = `${opts.integer === true ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` <= ${opts.max}` : ''}`;
    throw new OmnicapError('INVALID_ARGUMENT', `--${name} expects ${range} but received ${JSON.stringify(value)}`);
  }
  return n;
}
