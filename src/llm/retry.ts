/**
 * Reusable retry policy: bounded attempts, exponential backoff with full jitter, honours a
 * server-provided Retry-After, and aborts both the in-flight attempt and the backoff sleep.
 */
import { OmnicapError, toOmnicapError } from '../errors';
import { abortError, throwIfAborted } from '../util/abort';

export type SleepFn = (ms: number, signal?: AbortSignal) => Promise<void>;

export interface RetryPolicy {
  /** Total attempts including the first (default 4; must be 1..100). */
  maxAttempts?: number;
  /** Base delay for the first backoff in ms (default 500). */
  baseDelayMs?: number;
  /** Cap for any single delay in ms, Retry-After included (default 30000). */
  maxDelayMs?: number;
  /** Random source in [0,1) for full jitter (default Math.random). */
  random?: () => number;
  /** Sleep implementation (default: real timer, abortable). Inject for fast tests. */
  sleep?: SleepFn;
  /** Current time in ms, used to resolve HTTP-date Retry-After (default Date.now). */
  now?: () => number;
}

export interface RetryDecision {
  retry: boolean;
  /** Server-requested delay in ms (e.g. from Retry-After), overrides the backoff when set. */
  retryAfterMs?: number;
}

export interface RetryAttemptInfo {
  attempt: number;
  error: unknown;
  delayMs: number;
}

export interface RetryOptions extends RetryPolicy {
  signal?: AbortSignal;
  /** Classify an error: retry or not (default: retry only errors with `retryable: true` in details). */
  classify?: (error: unknown) => RetryDecision;
  /** Called before each backoff sleep. */
  onRetry?: (info: RetryAttemptInfo) => void;
}

export const DEFAULT_MAX_ATTEMPTS = 4;

/** Abortable real sleep. */
export const realSleep: SleepFn = (ms, signal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });

/** Parse a Retry-After header value (delta seconds or HTTP date) into ms; undefined if invalid. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (v === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return undefined;
  return Math.max(0, t - now);
}

/** Full-jitter exponential backoff delay for a 1-based retry number. */
export function backoffDelay(retry: number, base: number, cap: number, random: () => number): number {
  const ceiling = Math.min(cap, base * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}

/** HTTP status codes worth retrying: 408, 429 and any 5xx (never other 4xx). */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status <= 599);
}

/**
 * Default classifier: retry an OmnicapError whose details say `retryable: true`, honouring
 * `details.retryAfterMs`. Transports (OpenAIChatModel, local servers) set these fields.
 */
export function classifyRetryable(error: unknown): RetryDecision {
  if (error instanceof OmnicapError && error.details?.retryable === true) {
    const ra = error.details.retryAfterMs;
    return typeof ra === 'number' ? { retry: true, retryAfterMs: ra } : { retry: true };
  }
  return { retry: false };
}

function validatePolicy(p: RetryPolicy): Required<Pick<RetryPolicy, 'maxAttempts' | 'baseDelayMs' | 'maxDelayMs'>> {
  const maxAttempts = p.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 100) {
    throw new OmnicapError('INVALID_ARGUMENT', `Expected an integer 1..100 for maxAttempts but received ${String(maxAttempts)}`);
  }
  const baseDelayMs = p.baseDelayMs ?? 500;
  const maxDelayMs = p.maxDelayMs ?? 30_000;
  if (!(baseDelayMs >= 0) || !(maxDelayMs >= 0)) {
    throw new OmnicapError('INVALID_ARGUMENT', 'Expected non-negative baseDelayMs and maxDelayMs');
  }
  return { maxAttempts, baseDelayMs, maxDelayMs };
}

/**
 * Run `fn` with bounded retries. `fn` receives the 1-based attempt number. The last error is
 * thrown (as is) when attempts are exhausted or the error is not retryable.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { maxAttempts, baseDelayMs, maxDelayMs } = validatePolicy(options);
  const random = options.random ?? Math.random;
  const sleep = options.sleep ?? realSleep;
  const classify = options.classify ?? classifyRetryable;
  for (let attempt = 1; ; attempt++) {
    throwIfAborted(options.signal);
    try {
      return await fn(attempt);
    } catch (error) {
      if (options.signal?.aborted) throw abortError(options.signal);
      const decision = classify(error);
      if (!decision.retry || attempt >= maxAttempts) throw error;
      const delayMs =
        decision.retryAfterMs !== undefined
          ? Math.min(maxDelayMs, decision.retryAfterMs)
          : backoffDelay(attempt, baseDelayMs, maxDelayMs, random);
      options.onRetry?.({ attempt, error, delayMs });
      try {
        await sleep(delayMs, options.signal);
      } catch (e) {
        throw toOmnicapError(e, 'ABORTED');
      }
    }
  }
}
