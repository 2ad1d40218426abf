/** The lifecycle every Detective observer shares: its owner disposes it once; afterwards it refuses work. */
import { disposedError } from '../../errors';
import type { Observer } from '../../observers';

/** An observer that holds resources (model sessions, worker processes) until it is disposed. */
export interface DisposableObserver extends Observer, AsyncDisposable {
  /** Releases what the observer holds; later observe() calls reject with DISPOSED. Idempotent. */
  dispose(): Promise<void>;
}

/** `observer` with a once-only dispose that runs `release`; observe() after it rejects with DISPOSED. */
export function disposableObserver<T extends Observer>(observer: T, release: () => Promise<void> = async () => undefined): T & DisposableObserver {
  let disposing: Promise<void> | undefined;
  const dispose = (): Promise<void> => (disposing ??= release());
  return {
    ...observer,
    observe: (request) => (disposing !== undefined ? Promise.reject(disposedError(`the ${observer.name} observer`)) : observer.observe(request)),
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}
