/**
 * The queue in front of the one shared model instance. A request is admitted (a
 * {@link Reservation}) before its body is read: at most `concurrency + maxQueue` requests are
 * admitted at once, the rest are refused with QUEUE_FULL (429 + Retry-After) without any work.
 * An admitted request reads and decodes its media, then waits for one of the `concurrency` run
 * slots (FIFO). Retry-After is the estimated time until the work already admitted is done.
 */
import { OmnicapError } from '../errors';
import { abortError } from '../util/abort';

export type Release = () => void;

interface Waiter {
  reservation: Reservation;
  resolve: () => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

export interface SchedulerStats {
  /** Holding a run slot. */
  running: number;
  /** Waiting for a run slot (media decoded). */
  queued: number;
  /** Admitted, still reading or decoding the body. */
  preparing: number;
  concurrency: number;
  maxQueue: number;
}

/** One admitted request's place: released exactly once (extra calls are ignored). */
export class Reservation {
  /** Audio seconds of the job once known (for the queued-work estimate). */
  audioSeconds?: number;
  state: 'preparing' | 'queued' | 'running' | 'released' = 'preparing';
  runStarted = 0;
  private readonly onRun: Array<() => void> = [];

  constructor(private readonly scheduler: Scheduler) {}

  /** Wait for a run slot (abortable; rejects if the reservation was released). */
  run(signal?: AbortSignal): Promise<void> {
    return this.scheduler.enqueue(this, signal);
  }

  /** Called once when the job starts running (or is released before). */
  whenRunning(fn: () => void): void {
    if (this.state === 'running' || this.state === 'released') fn();
    else this.onRun.push(fn);
  }

  /** @internal */
  started(): void {
    for (const fn of this.onRun.splice(0)) fn();
  }

  /** Leave the scheduler; `completed` jobs teach the Retry-After estimate. */
  release(completed = false): void {
    this.scheduler.leave(this, completed);
  }
}

export class Scheduler {
  private readonly admitted = new Set<Reservation>();
  private running = 0;
  private readonly waiters: Waiter[] = [];
  /** Moving averages of completed jobs: wall ms, and ms per second of audio (for Retry-After). */
  private avgJobMs = 1000;
  private msPerAudioSecond = 300;

  constructor(
    readonly concurrency: number,
    readonly maxQueue: number,
  ) {}

  get capacity(): number {
    return this.concurrency + this.maxQueue;
  }

  get stats(): SchedulerStats {
    const queued = this.waiters.length;
    return { running: this.running, queued, preparing: this.admitted.size - this.running - queued, concurrency: this.concurrency, maxQueue: this.maxQueue };
  }

  private estimateMs(r: Reservation): number {
    return r.audioSeconds === undefined ? this.avgJobMs : Math.max(1, r.audioSeconds) * this.msPerAudioSecond;
  }

  /** Estimated ms until the admitted work is done, spread over the run slots. */
  queuedWorkMs(): number {
    const now = performance.now();
    let total = 0;
    for (const r of this.admitted) {
      const est = this.estimateMs(r);
      total += r.state === 'running' ? Math.max(0.1 * est, est - (now - r.runStarted)) : est;
    }
    return total / this.concurrency;
  }

  /** Seconds a refused client should wait before retrying (>= 1): the admitted work's estimate. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil(this.queuedWorkMs() / 1000));
  }

  /** True when a request arriving now would be refused. */
  get isFull(): boolean {
    return this.admitted.size >= this.capacity;
  }

  /** The QUEUE_FULL error a request arriving now gets (with its Retry-After). */
  full(): OmnicapError {
    const retryAfter = this.retryAfterSeconds();
    const s = this.stats;
    return new OmnicapError('QUEUE_FULL', `server busy: ${s.running} running, ${s.queued + s.preparing} waiting (max ${this.maxQueue}); retry after ${retryAfter} s`, {
      details: { retry_after_seconds: retryAfter },
    });
  }

  /** Admit a request now or throw QUEUE_FULL (no waiting, no allocation beyond the reservation). */
  reserve(): Reservation {
    if (this.admitted.size >= this.capacity) throw this.full();
    const r = new Reservation(this);
    this.admitted.add(r);
    return r;
  }

  /** Reserve and wait for a run slot; the returned release must be called once. */
  async acquire(signal?: AbortSignal): Promise<Release> {
    if (signal?.aborted) throw abortError(signal);
    const r = this.reserve();
    try {
      await r.run(signal);
    } catch (e) {
      r.release();
      throw e;
    }
    return () => r.release(true);
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

  /** @internal (Reservation.run) */
  enqueue(r: Reservation, signal?: AbortSignal): Promise<void> {
    if (r.state === 'released') return Promise.reject(new OmnicapError('ABORTED', 'the request already left the queue'));
    if (r.state !== 'preparing') return Promise.reject(new OmnicapError('INTERNAL', 'Reservation.run() called twice'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.running < this.concurrency && this.waiters.length === 0) {
      this.grant(r);
      return Promise.resolve();
    }
    r.state = 'queued';
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { reservation: r, resolve, reject, signal };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          this.dropWaiter(waiter);
          r.state = 'preparing';
          reject(abortError(signal));
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      this.waiters.push(waiter);
    });
  }

  /** @internal (Reservation.release) */
  leave(r: Reservation, completed: boolean): void {
    if (r.state === 'released') return;
    const wasRunning = r.state === 'running';
    if (r.state === 'queued') {
      const w = this.waiters.find((x) => x.reservation === r);
      if (w !== undefined) {
        this.dropWaiter(w);
        w.reject(new OmnicapError('ABORTED', 'the request left the queue'));
      }
    }
    r.state = 'released';
    this.admitted.delete(r);
    r.started();
    if (wasRunning) {
      this.running -= 1;
      if (completed) {
        const ms = performance.now() - r.runStarted;
        this.avgJobMs = 0.8 * this.avgJobMs + 0.2 * ms;
        if (r.audioSeconds !== undefined) this.msPerAudioSecond = 0.8 * this.msPerAudioSecond + 0.2 * (ms / Math.max(1, r.audioSeconds));
      }
      this.next();
    }
  }

  private dropWaiter(w: Waiter): void {
    const i = this.waiters.indexOf(w);
    if (i >= 0) this.waiters.splice(i, 1);
    if (w.signal !== undefined && w.onAbort !== undefined) w.signal.removeEventListener('abort', w.onAbort);
  }

  private grant(r: Reservation): void {
    this.running += 1;
    r.state = 'running';
    r.runStarted = performance.now();
    r.started();
  }

  private next(): void {
    while (this.running < this.concurrency && this.waiters.length > 0) {
      const w = this.waiters[0];
      this.dropWaiter(w);
      this.grant(w.reservation);
      w.resolve();
    }
  }
}
