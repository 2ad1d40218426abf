/**
 * Event-driven waits for tests: wait for the event, promise or state change itself, never for a
 * fixed time. Each has a generous overall guard that only turns a hang into a failure naming what
 * never happened (how fast something happens belongs in benchmarks, not tests).
 */
import type { EventEmitter } from 'node:events';

/** The default guard: far above any honest wait on a loaded 2-core machine. */
export const GUARD_MS = 60_000;

/** `p`, or a rejection naming `what` if it has not settled within `guardMs`. */
export async function guarded<T>(p: Promise<T>, what: string, guardMs = GUARD_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const guard = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${guardMs} ms waiting for ${what}`)), guardMs);
  });
  try {
    return await Promise.race([p, guard]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves when `signal` has aborted (at once if it already has). */
export function aborted(signal: AbortSignal, what = 'the signal to abort', guardMs = GUARD_MS): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return guarded(new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true })), what, guardMs);
}

/** The arguments of the next `event` of `emitter`. */
export function nextEvent(emitter: EventEmitter, event: string, what = `event ${event}`, guardMs = GUARD_MS): Promise<unknown[]> {
  let listener: ((...args: unknown[]) => void) | undefined;
  const p = new Promise<unknown[]>((resolve) => {
    listener = (...args: unknown[]) => resolve(args);
    emitter.once(event, listener);
  });
  return guarded(p, what, guardMs).finally(() => {
    if (listener !== undefined) emitter.off(event, listener);
  });
}

/**
 * Resolves once `cond()` holds, re-checking it each time one of `sources` emits one of its events
 * (stream data, a state change, a close): no polling interval.
 */
export function until(cond: () => boolean, sources: Array<[EventEmitter, string]>, what: string, guardMs = GUARD_MS): Promise<void> {
  if (cond()) return Promise.resolve();
  let check: (() => void) | undefined;
  const p = new Promise<void>((resolve) => {
    check = () => {
      if (cond()) resolve();
    };
    for (const [emitter, event] of sources) emitter.on(event, check);
  });
  return guarded(p, what, guardMs).finally(() => {
    if (check !== undefined) for (const [emitter, event] of sources) emitter.off(event, check);
  });
}
