/**
 * The queue in front of the one shared model instance: at most `concurrency` jobs run at once,
 * at most `maxQueue` wait, the rest are refused with QUEUE_FULL (429 + Retry-After). The engine
 * does not batch requests, so this queue is the batching point: concurrent requests are
 * serialized (or run `concurrency` at a time) over the same ORT sessions.
 */
import { OmnicapError } from '../errors';
import { abortError } from '../util/abort';

export type Release = () => void;

interface Waiter {
  resolve: (release: Release) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export interface SchedulerStats {
  running: number;
  queued: number;
  concurrency: number;
  maxQueue: number;
}

export class Scheduler {
  private running = 0;
  private readonly waiters: Waiter[] = [];
  /** Exponential moving average of job durations, for Retry-After. */
  private avgJobMs = 1000;

  constructor(
    readonly concurrency: number,
    readonly maxQueue: number,
  ) {}

  get stats(): SchedulerStats {
    return { running: this.running, queued: this.waiters.length, concurrency: this.concurrency, maxQueue: this.maxQueue };
  }

  /** Seconds a refused client should wait before retrying (>= 1). */
  retryAfterSeconds(): number {
    const ahead = this.running + this.waiters.length + 1;
    return Math.max(1, Math.ceil((this.avgJobMs * ahead) / this.concurrency / 1000));
  }

  private full(): OmnicapError {
    const retryAfter = this.retryAfterSeconds();
    return new OmnicapError('QUEUE_FULL', `server busy: ${this.running} running, ${this.waiters.length} queued (max ${this.maxQueue}); retry after ${retryAfter} s`, {
      details: { retry_after_seconds: retryAfter },
    });
  }

  /** Throws QUEUE_FULL now if a job arriving now would be refused (cheap pre-check before decoding media). */
  checkCapacity(): void {
    if (this.running >= this.concurrency && this.waiters.length >= this.maxQueue) throw this.full();
  }

  /** Wait for a slot. The returned release must be called exactly once (extra calls are ignored). */
  acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.running < this.concurrency) return Promise.resolve(this.grant());
    if (this.waiters.length >= this.maxQueue) return Promise.reject(this.full());
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(abortError(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  /** acquire + run + release. */
  async run<T>(signal: AbortSignal | undefined, job: () => Promise<T>): Promise<T> {
    const release = await this.acquire(signal);
    try {
      return await job();
    } finally {
      release();
    }
  }

  private grant(): Release {
    this.running += 1;
    const started = performance.now();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.running -= 1;
      this.avgJobMs = 0.8 * this.avgJobMs + 0.2 * (performance.now() - started);
      this.next();
    };
  }

  private next(): void {
    while (this.running < this.concurrency && this.waiters.length > 0) {
      const w = this.waiters.shift() as Waiter;
      if (w.signal !== undefined && w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort);
      w.resolve(this.grant());
    }
  }
}
