/**
 * The one set of numeric ranges: the request schemas (src/schema/generation.ts, requests.ts) turn
 * them into JSON Schema, the engine checks its options against them, and the CLI checks its flags
 * against them. Plain data and small pure helpers only (no schema library), so every layer may
 * import it.
 */
import { invalidParameterError } from '../errors';

/** A numeric range: `min`/`max` inclusive, `above` exclusive, `integer` for whole numbers. */
export interface NumberRange {
  readonly integer?: boolean;
  readonly min?: number;
  readonly above?: number;
  readonly max?: number;
}

/** The captioner is trained on clips of at most this many seconds; longer audio is captioned window by window. */
export const MAX_WINDOW_SECONDS = 30;
/** Smallest window, and smallest hop (`window - overlap`) between windows. */
export const MIN_WINDOW_STEP_SECONDS = 1;
/** At most this many windows per HTTP request (each window is a full encoder pass + generation). */
export const MAX_WINDOWS_PER_REQUEST = 64;
/** Longest observer question (characters). */
export const MAX_QUESTION_CHARS = 8192;
/** Upper bound on generated tokens per window (HTTP max_tokens, CLI --max-tokens, engine maxNewTokens). */
export const MAX_TOKENS_LIMIT = 32768;
/** Node timers overflow above this (a larger delay fires after 1 ms). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Sampling and windowing options of the captioner, by engine option name. */
export const GENERATION_LIMITS = {
  maxNewTokens: { integer: true, min: 1, max: MAX_TOKENS_LIMIT },
  /** 0 = greedy. */
  temperature: { min: 0, max: 2 },
  /** 1 = off. */
  topP: { above: 0, max: 1 },
  /** 0 = off. */
  topK: { integer: true, min: 0, max: 1_000_000 },
  seed: { integer: true, min: 0, max: 2 ** 31 - 1 },
  windowSeconds: { min: MIN_WINDOW_STEP_SECONDS, max: MAX_WINDOW_SECONDS },
  overlapSeconds: { min: 0, max: MAX_WINDOW_SECONDS - MIN_WINDOW_STEP_SECONDS },
} as const satisfies Record<string, NumberRange>;

/**
 * A text LLM's options (src/llm), by ChatOptions / LlmResources name: the sampling ranges are the
 * captioner's (the server's chat route takes both from the same request fields), the rest bound
 * the process that runs the model (a local GGUF) or the endpoint client.
 */
export const LLM_LIMITS = {
  temperature: GENERATION_LIMITS.temperature,
  topP: GENERATION_LIMITS.topP,
  maxTokens: GENERATION_LIMITS.maxNewTokens,
  seed: GENERATION_LIMITS.seed,
  /** 1 = off (local model only). */
  repeatPenalty: { min: 1, max: 2 },
  /** CPU threads of a local model. */
  threads: { integer: true, min: 1, max: 256 },
  /** KV sequences of a local model (conversations kept at once). */
  sequences: { integer: true, min: 1, max: 64 },
  /** Context tokens per conversation of a local model. */
  contextSize: { integer: true, min: 1, max: 131072 },
  /** Per-attempt timeout of an endpoint call. */
  timeoutMs: { integer: true, min: 1, max: MAX_TIMER_MS },
} as const satisfies Record<string, NumberRange>;

/** "an integer in [1, 32768]", "a number in (0, 1]", "a number >= 0". */
export function describeRange(r: NumberRange): string {
  const kind = r.integer === true ? 'an integer' : 'a number';
  const lo = r.above !== undefined ? { v: r.above, open: true } : r.min !== undefined ? { v: r.min, open: false } : undefined;
  if (lo !== undefined && r.max !== undefined) {
    if (!lo.open && lo.v === r.max) return `${kind} equal to ${r.max}`;
    return `${kind} in ${lo.open ? '(' : '['}${lo.v}, ${r.max}]`;
  }
  if (lo !== undefined) return `${kind} ${lo.open ? '>' : '>='} ${lo.v}`;
  if (r.max !== undefined) return `${kind} <= ${r.max}`;
  return kind;
}

export function inRange(n: number, r: NumberRange): boolean {
  return (
    Number.isFinite(n) &&
    (r.integer !== true || Number.isInteger(n)) &&
    (r.min === undefined || n >= r.min) &&
    (r.above === undefined || n > r.above) &&
    (r.max === undefined || n <= r.max)
  );
}

/** INVALID_ARGUMENT naming `name` unless `value` is a number in `r`. */
export function checkRange(name: string, value: unknown, r: NumberRange): number {
  if (typeof value !== 'number' || !inRange(value, r)) throw invalidParameterError(name, describeRange(r), value);
  return value;
}

/** Plain decimal notation only (no hex `0x10`, no `Infinity`, no `1_000`, no empty string). */
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A number written in decimal notation (form fields, command-line flags), else undefined. */
export function parseDecimal(text: string): number | undefined {
  const t = text.trim();
  return DECIMAL.test(t) ? Number(t) : undefined;
}

/**
 * A number given as text (a command-line flag): plain decimal notation within `r`; `fallback` when
 * absent. INVALID_ARGUMENT worded as the server words a bad request field ("Expected a number in
 * (0, 1] for --top-p but received number 0"), naming `name`.
 */
export function parseNumberText(name: string, text: string | undefined, fallback: number, r: NumberRange): number {
  if (text === undefined) return fallback;
  const n = parseDecimal(text);
  if (n === undefined || !inRange(n, r)) throw invalidParameterError(name, describeRange(r), n ?? text);
  return n;
}

/**
 * Window and overlap together: windows must advance by at least {@link MIN_WINDOW_STEP_SECONDS}.
 * `names` are the caller's field names (e.g. window_seconds / overlap_seconds over HTTP).
 */
export function checkWindowStep(windowSeconds: number, overlapSeconds: number, names: { window: string; overlap: string }): void {
  if (windowSeconds - overlapSeconds < MIN_WINDOW_STEP_SECONDS) {
    const most = windowSeconds - MIN_WINDOW_STEP_SECONDS;
    throw invalidParameterError(names.overlap, `a number <= ${names.window} - ${MIN_WINDOW_STEP_SECONDS} (${most}): windows must advance by at least ${MIN_WINDOW_STEP_SECONDS} s`, overlapSeconds);
  }
}
