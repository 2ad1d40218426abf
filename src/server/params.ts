/**
 * Request parameter validation. JSON bodies must carry real JSON types; multipart form fields are
 * strings and are converted (`fromForm`). Every bad value is a 400 INVALID_ARGUMENT naming the field.
 */
import { OmnicapError, invalidParameterError } from '../errors';
import { isRecord } from '../util/guards';
import type { CaptionOptions } from '../engine/types';

export type Params = Record<string, unknown>;

/** Upper bound on max_tokens accepted over HTTP. */
export const MAX_TOKENS_LIMIT = 32768;
/** Smallest `window_seconds`, and smallest hop (`window_seconds - overlap_seconds`) between windows. */
export const MIN_WINDOW_SECONDS = 1;
export const MIN_WINDOW_STEP_SECONDS = 1;
/** At most this many windows per request (each window is a full encoder pass + generation). */
export const MAX_WINDOWS_PER_REQUEST = 64;
/** The engine's default window (src/engine: audio longer than this is split). */
const DEFAULT_WINDOW_SECONDS = 30;
/** A form field number: plain decimal notation only (no hex `0x10`, no `Infinity`, no `1_000`). */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A JSON object parameter (the project's one {@link isRecord}). */
export const isPlainObject: (v: unknown) => v is Params = isRecord;

export interface NumberRule {
  integer?: boolean;
  min?: number;
  /** Exclusive lower bound. */
  above?: number;
  max?: number;
}

function describeRule(r: NumberRule): string {
  const parts = [r.integer === true ? 'an integer' : 'a number'];
  if (r.min !== undefined) parts.push(`>= ${r.min}`);
  if (r.above !== undefined) parts.push(`> ${r.above}`);
  if (r.max !== undefined) parts.push(`<= ${r.max}`);
  return parts.join(' ');
}

export function numberParam(p: Params, key: string, fromForm: boolean, rule: NumberRule): number | undefined {
  const raw = p[key];
  if (raw === undefined || raw === null || (fromForm && raw === '')) return undefined;
  const n = typeof raw === 'number' ? raw : fromForm && typeof raw === 'string' && DECIMAL.test(raw.trim()) ? Number(raw) : NaN;
  const ok =
    Number.isFinite(n) &&
    (rule.integer !== true || Number.isInteger(n)) &&
    (rule.min === undefined || n >= rule.min) &&
    (rule.above === undefined || n > rule.above) &&
    (rule.max === undefined || n <= rule.max);
  if (!ok) throw invalidParameterError(key, describeRule(rule), raw);
  return n;
}

export function boolParam(p: Params, key: string, fromForm: boolean): boolean | undefined {
  const raw = p[key];
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw === 'boolean') return raw;
  if (fromForm && typeof raw === 'string' && /^(true|false|1|0)$/i.test(raw)) return /^(true|1)$/i.test(raw);
  throw invalidParameterError(key, 'a boolean', raw);
}

export function stringParam(p: Params, key: string, opts: { maxLength?: number } = {}): string | undefined {
  const raw = p[key];
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') throw invalidParameterError(key, 'a string', raw);
  if (opts.maxLength !== undefined && raw.length > opts.maxLength) throw invalidParameterError(key, `a string of at most ${opts.maxLength} characters`, raw);
  return raw;
}

export type GenerationParams = Omit<CaptionOptions, 'signal'>;

/** Sampling/windowing options shared by /v1/captions, /v1/chat/completions and observers. */
export function generationParams(p: Params, fromForm: boolean, aliases: { maxTokens?: string[] } = {}): GenerationParams {
  const out: GenerationParams = {};
  let maxTokens: number | undefined;
  for (const key of ['max_tokens', ...(aliases.maxTokens ?? [])]) {
    maxTokens ??= numberParam(p, key, fromForm, { integer: true, min: 1, max: MAX_TOKENS_LIMIT });
  }
  if (maxTokens !== undefined) out.maxNewTokens = maxTokens;
  const temperature = numberParam(p, 'temperature', fromForm, { min: 0, max: 2 });
  if (temperature !== undefined) out.temperature = temperature;
  const topP = numberParam(p, 'top_p', fromForm, { above: 0, max: 1 });
  if (topP !== undefined) out.topP = topP;
  const topK = numberParam(p, 'top_k', fromForm, { integer: true, min: 0, max: 1_000_000 });
  if (topK !== undefined) out.topK = topK;
  const seed = numberParam(p, 'seed', fromForm, { integer: true, min: 0, max: 2 ** 31 - 1 });
  if (seed !== undefined) out.seed = seed;
  const win = numberParam(p, 'window_seconds', fromForm, { min: MIN_WINDOW_SECONDS, max: DEFAULT_WINDOW_SECONDS });
  if (win !== undefined) out.windowSeconds = win;
  const overlap = numberParam(p, 'overlap_seconds', fromForm, { min: 0, max: DEFAULT_WINDOW_SECONDS });
  if (overlap !== undefined) {
    const w = win ?? DEFAULT_WINDOW_SECONDS;
    if (w - overlap < MIN_WINDOW_STEP_SECONDS) {
      throw invalidParameterError('overlap_seconds', `a number <= window_seconds - ${MIN_WINDOW_STEP_SECONDS} (${w - MIN_WINDOW_STEP_SECONDS}): windows must advance by at least ${MIN_WINDOW_STEP_SECONDS} s`, overlap);
    }
    out.overlapSeconds = overlap;
  }
  return out;
}

/** How many windows the engine will make of `samples` 16 kHz samples with these options (as splitWindows). */
export function windowCount(samples: number, params: GenerationParams): number {
  const windowSeconds = params.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  if (samples <= windowSeconds * 16000) return 1;
  const win = Math.round(windowSeconds * 16000);
  const hop = win - Math.round((params.overlapSeconds ?? 0) * 16000);
  return Math.ceil((samples - win) / hop) + 1;
}

/** INVALID_ARGUMENT before any model work when the clip would make more than {@link MAX_WINDOWS_PER_REQUEST} windows. */
export function checkWindowCount(samples: number, params: GenerationParams): number {
  const n = windowCount(samples, params);
  if (n > MAX_WINDOWS_PER_REQUEST) {
    throw new OmnicapError('INVALID_ARGUMENT', `these window_seconds / overlap_seconds make ${n} windows of this clip; at most ${MAX_WINDOWS_PER_REQUEST} are allowed per request`, {
      details: { windows: n, max_windows: MAX_WINDOWS_PER_REQUEST },
    });
  }
  return n;
}
