import { OmnicapError } from '../errors';

/**
 * The one AbortSignal contract: long operations take `{ signal }` and call
 * {@link throwIfAborted} between steps (decode steps, windows, rounds, clips).
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof OmnicapError) throw reason;
    if (reason instanceof Error && reason.name === 'TimeoutError') {
      throw new OmnicapError('TIMEOUT', reason.message || 'operation timed out', { cause: reason });
    }
    throw new OmnicapError('ABORTED', reason instanceof Error ? reason.message : 'operation aborted', { cause: reason });
  }
}

/** Combine optional signals (and an optional timeout in ms) into one. */
export function combineSignals(signals: Array<AbortSignal | undefined>, timeoutMs?: number): AbortSignal | undefined {
  const list = signals.filter((s): s is AbortSignal => s !== undefined);
  if (timeoutMs !== undefined && timeoutMs > 0) list.push(AbortSignal.timeout(timeoutMs));
  if (list.length === 0) return undefined;
  if (list.length === 1) return list[0];
  return AbortSignal.any(list);
}
