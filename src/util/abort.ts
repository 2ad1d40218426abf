import { OmnicapError } from '../errors';

function errorLike(value: unknown): { name: string; message: string } | undefined {
  // DOMException (AbortError/TimeoutError) is not `instanceof Error` in every realm (e.g. jest).
  if (typeof value === 'object' && value !== null && 'name' in value && 'message' in value) {
    const { name, message } = value as { name: unknown; message: unknown };
    if (typeof name === 'string' && typeof message === 'string') return { name, message };
  }
  return undefined;
}

/**
 * The one AbortSignal contract: long operations take `{ signal }` and call
 * {@link throwIfAborted} between steps (decode steps, windows, rounds, clips).
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortError(signal);
}

/** The typed error for an aborted signal: TIMEOUT for timeouts, the reason itself if typed, else ABORTED. */
export function abortError(signal: AbortSignal): OmnicapError {
  const reason: unknown = signal.reason;
  if (reason instanceof OmnicapError) return reason;
  const e = errorLike(reason);
  if (e?.name === 'TimeoutError') return new OmnicapError('TIMEOUT', e.message || 'operation timed out', { cause: reason });
  return new OmnicapError('ABORTED', e?.message || 'operation aborted', { cause: reason });
}

/** Combine optional signals (and an optional timeout in ms) into one. */
export function combineSignals(signals: Array<AbortSignal | undefined>, timeoutMs?: number): AbortSignal | undefined {
  const list = signals.filter((s): s is AbortSignal => s !== undefined);
  if (timeoutMs !== undefined && timeoutMs > 0) list.push(AbortSignal.timeout(timeoutMs));
  if (list.length === 0) return undefined;
  if (list.length === 1) return list[0];
  return AbortSignal.any(list);
}
