/**
 * A model the server loads once and serves (the captioner, the text LLM): loading, then ready or
 * failed; disposed when the server closes. Requests ask {@link Loadable.require}, which answers
 * NOT_READY (503) until the model is ready; /readyz reports {@link readinessOf} all of them.
 */
import { OmnicapError, disposedError, toOmnicapError } from '../errors';

export type LoadState<T> =
  | { state: 'loading' }
  | { state: 'ready'; value: T }
  | { state: 'failed'; error: OmnicapError }
  | { state: 'disposed' };

export interface LoadableOptions<T> {
  /** How messages name it: "the model", "the text LLM". */
  name: string;
  /** A loaded value, or a loader started by the first {@link Loadable.load}. */
  source: T | (() => Promise<T>);
  /**
   * Releases a value the server owns: on dispose, and a value that finishes loading after
   * dispose. Omitted when the caller keeps ownership.
   */
  release?: (value: T) => Promise<void> | void;
  /** Called once when the value is ready (with the load time). */
  onReady?: (value: T, ms: number) => void;
  /** Called once when loading failed. */
  onFailed?: (error: OmnicapError) => void;
}

export class Loadable<T> {
  private current: LoadState<T> = { state: 'loading' };
  private loading: Promise<T> | undefined;

  constructor(private readonly o: LoadableOptions<T>) {}

  get state(): LoadState<T> {
    return this.current;
  }

  /** The value when ready, else undefined. */
  get value(): T | undefined {
    return this.current.state === 'ready' ? this.current.value : undefined;
  }

  /** True when the source is a loader (loading starts on {@link load}), false for a given value. */
  get lazy(): boolean {
    return typeof this.o.source === 'function';
  }

  /** Starts loading once; resolves with the value or rejects with the (typed) load error. */
  load(): Promise<T> {
    if (this.loading !== undefined) return this.loading;
    const source = this.o.source;
    const started = performance.now();
    const pending = typeof source === 'function' ? (source as () => Promise<T>)() : Promise.resolve(source);
    this.loading = pending.then(
      async (value) => {
        if (this.current.state === 'disposed') {
          await this.o.release?.(value);
          throw disposedError('the server', `it was closed while ${this.o.name} was loading`);
        }
        this.current = { state: 'ready', value };
        this.o.onReady?.(value, Math.round(performance.now() - started));
        return value;
      },
      (e: unknown) => {
        const error = toOmnicapError(e);
        if (this.current.state !== 'disposed') this.current = { state: 'failed', error };
        this.o.onFailed?.(error);
        throw error;
      },
    );
    this.loading.catch(() => undefined); // observed through /readyz and the callers of load()
    return this.loading;
  }

  /** The value, or NOT_READY (503) saying why not. */
  require(): T {
    const s = this.current;
    if (s.state === 'ready') return s.value;
    throw this.notReady(s);
  }

  /** The NOT_READY error a request gets now; undefined when ready. */
  notReadyError(): OmnicapError | undefined {
    const s = this.current;
    return s.state === 'ready' ? undefined : this.notReady(s);
  }

  private notReady(s: Exclude<LoadState<T>, { state: 'ready' }>): OmnicapError {
    switch (s.state) {
      case 'loading':
        return new OmnicapError('NOT_READY', `${this.o.name} is still loading; retry shortly (see /readyz)`);
      case 'failed':
        return new OmnicapError('NOT_READY', `${this.o.name} failed to load (${s.error.code}); see the server log`);
      case 'disposed':
        return new OmnicapError('NOT_READY', 'the server is shutting down');
    }
  }

  /** Marks it disposed (later {@link require} calls fail) and releases a loaded value it owns. Idempotent. */
  async dispose(): Promise<void> {
    const previous = this.current;
    this.current = { state: 'disposed' };
    if (previous.state === 'ready' && this.o.release !== undefined) await this.o.release(previous.value);
  }
}

export interface Readiness {
  /** ready when every resource is; else the state of the first one that is not. */
  state: LoadState<unknown>['state'];
  /** Why it is not ready (the NOT_READY error a request would get). */
  error?: OmnicapError;
}

/** What {@link readinessOf} reads of a {@link Loadable} of any type. */
export interface ReadinessSource {
  readonly state: { state: Readiness['state'] };
  notReadyError(): OmnicapError | undefined;
}

/** The readiness of several resources together (for /readyz). */
export function readinessOf(resources: ReadonlyArray<ReadinessSource | undefined>): Readiness {
  for (const r of resources) {
    const error = r?.notReadyError();
    if (r !== undefined && error !== undefined) return { state: r.state.state, error };
  }
  return { state: 'ready' };
}
