/**
 * Request bodies checked against their schemas (src/schema): JSON bodies must carry real JSON
 * types; multipart form fields are strings and are converted by the schema first. Every bad value
 * is a 400 INVALID_ARGUMENT naming the field.
 */
import type { TObject } from '@sinclair/typebox';
import { OmnicapError } from '../errors';
import { isRecord } from '../util/guards';
import type { CaptionOptions } from '../engine/types';
import { MAX_WINDOW_SECONDS, MAX_WINDOWS_PER_REQUEST, checkWindowStep, checker, fromFormFields, type Checker, type GenerationFieldValues } from '../schema';

export type Params = Record<string, unknown>;

/** A JSON object parameter (the project's one {@link isRecord}). */
export const isPlainObject: (v: unknown) => v is Params = isRecord;

/** A body check for JSON and multipart requests of one schema (form fields converted first). */
export function bodyChecker<T extends TObject>(schema: T): (body: unknown, fromForm: boolean) => ReturnType<Checker<T>> {
  const check = checker(schema);
  return (body, fromForm) => check(fromForm && isPlainObject(body) ? fromFormFields(schema, body) : body);
}

export type GenerationParams = Omit<CaptionOptions, 'signal'>;

/** The engine options of validated sampling/windowing fields (`maxTokens` overrides max_tokens, e.g. max_completion_tokens). */
export function generationParams(f: GenerationFieldValues, maxTokens?: number | null): GenerationParams {
  const out: GenerationParams = {};
  const tokens = f.max_tokens ?? maxTokens;
  if (tokens != null) out.maxNewTokens = tokens;
  if (f.temperature != null) out.temperature = f.temperature;
  if (f.top_p != null) out.topP = f.top_p;
  if (f.top_k != null) out.topK = f.top_k;
  if (f.seed != null) out.seed = f.seed;
  if (f.window_seconds != null) out.windowSeconds = f.window_seconds;
  if (f.overlap_seconds != null) {
    checkWindowStep(f.window_seconds ?? MAX_WINDOW_SECONDS, f.overlap_seconds, { window: 'window_seconds', overlap: 'overlap_seconds' });
    out.overlapSeconds = f.overlap_seconds;
  }
  return out;
}

/** How many windows the engine will make of `samples` 16 kHz samples with these options (as splitWindows). */
export function windowCount(samples: number, params: GenerationParams): number {
  const windowSeconds = params.windowSeconds ?? MAX_WINDOW_SECONDS;
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
