/**
 * Request parameter validation. JSON bodies must carry real JSON types; multipart form fields are
 * strings and are converted (`fromForm`). Every bad value is a 400 INVALID_ARGUMENT naming the field.
 */
import { invalidParameterError } from '../errors';
import type { CaptionOptions } from '../engine/types';

export type Params = Record<string, unknown>;

/** Upper bound on max_tokens accepted over HTTP. */
export const MAX_TOKENS_LIMIT = 32768;

export function isPlainObject(v: unknown): v is Params {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !ArrayBuffer.isView(v);
}

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
  const n = typeof raw === 'number' ? raw : fromForm && typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
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
  const win = numberParam(p, 'window_seconds', fromForm, { above: 0, max: 30 });
  if (win !== undefined) out.windowSeconds = win;
  const overlap = numberParam(p, 'overlap_seconds', fromForm, { min: 0, max: 30 });
  if (overlap !== undefined) {
    if (overlap >= (win ?? 30)) throw invalidParameterError('overlap_seconds', `a number < window_seconds (${win ?? 30})`, overlap);
    out.overlapSeconds = overlap;
  }
  return out;
}
