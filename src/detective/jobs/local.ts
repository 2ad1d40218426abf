/**
 * Annotation jobs run in this process: a journal under the data directory (journal.ts), a bounded
 * FIFO of pending jobs, N running at once through the same per-clip step as `omnicap detect`
 * (detectClip), each with its own AbortSignal (DELETE aborts its observers and LLM calls).
 *
 * State machine: queued -> running -> done | failed; queued | running -> cancelled. A job's end is
 * journaled (fsynced) before anyone is told, so a result a client saw is never run again; a job
 * that was queued or running when the process died is queued again at the next start.
 */
import { randomUUID } from 'node:crypto';
import { OmnicapError, errorDetail, toOmnicapError } from '../../errors';
import type { ChatModel } from '../../llm/types';
import { createLogger, type Logger } from '../../util/log';
import { detectClip } from '../batch';
import type { RunOptions } from '../queue/manifest';
import type { DetectiveToolbox } from '../toolbox';
import type { DetectiveClip, DetectiveRound } from '../types';
import { JobJournal, replay, viewOf, type JournalEntry, type StoredJob } from './journal';
import { hidePath, jobsFullError, publicRecord } from './shared';
import type { AnnotationEvent, AnnotationJobs, AnnotationJobView, JobListener, JobWatch, NewJob } from './types';

export interface LocalJobsOptions {
  /** The journal's folder (created, mode 0700). */
  dataDir: string;
  llm: ChatModel;
  toolbox: DetectiveToolbox;
  /** Per-clip options, as `omnicap detect` takes them. */
  run?: Partial<Omit<RunOptions, 'allowRemoteUrls'>>;
  /** Jobs running at once (default 1). */
  concurrency?: number;
  /** Jobs queued or running at once; more are refused with QUEUE_FULL (default 64). */
  maxPending?: number;
  /** Largest clip accepted (bytes). */
  maxMediaBytes: number;
  logger?: Logger;
}

interface LiveJob {
  stored: StoredJob;
  status: 'queued' | 'running';
  rounds: DetectiveRound[];
  startedAt?: string;
  controller?: AbortController;
  listeners: Set<JobListener>;
  /** Journal writes of its rounds, in order. */
  writes: Promise<void>;
  /** Set when a runner takes it; settles when its run is over (whatever the outcome). */
  done?: Promise<void>;
}

export class LocalAnnotationJobs implements AnnotationJobs {
  readonly runsOn = 'local' as const;
  private readonly live = new Map<string, LiveJob>();
  private readonly pending: string[] = [];
  private readonly stopping = new AbortController();
  private readonly concurrency: number;
  private readonly maxPending: number;
  private readonly log: Logger;
  private running = 0;
  private accepting = 0;
  private closed: Promise<void> | undefined;
  /** Seconds the last jobs took (the Retry-After estimate of a 429). */
  private lastSeconds: number[] = [];

  private constructor(
    private readonly journal: JobJournal,
    private readonly o: LocalJobsOptions,
  ) {
    this.concurrency = o.concurrency ?? 1;
    this.maxPending = o.maxPending ?? 64;
    this.log = o.logger ?? createLogger(undefined);
  }

  /** Opens the journal, queues again the jobs a previous process left queued or running, and starts running them. */
  static async open(o: LocalJobsOptions): Promise<LocalAnnotationJobs> {
    const jobs = new LocalAnnotationJobs(await JobJournal.open(o.dataDir), o);
    await jobs.recover();
    jobs.pump();
    return jobs;
  }

  private async recover(): Promise<void> {
    for (const stored of await this.journal.list()) {
      const s = replay(await this.journal.entries(stored.id));
      if (s.status !== 'queued' && s.status !== 'running') continue;
      if (s.status === 'running') await this.journal.append(stored.id, { type: 'status', status: 'queued', at: new Date().toISOString() });
      this.live.set(stored.id, { stored, status: 'queued', rounds: [], listeners: new Set(), writes: Promise.resolve() });
      this.pending.push(stored.id);
      this.log.info({ job: stored.id, was: s.status }, 'annotation job queued again after a restart');
    }
  }

  checkCapacity(): void {
    if (this.closed !== undefined) throw new OmnicapError('NOT_READY', 'the annotation jobs are shutting down');
    if (this.live.size + this.accepting >= this.maxPending) throw jobsFullError(this.live.size, this.maxPending, this.retryAfter());
  }

  private retryAfter(): number {
    const avg = this.lastSeconds.length === 0 ? 10 : this.lastSeconds.reduce((a, b) => a + b, 0) / this.lastSeconds.length;
    return Math.max(1, Math.min(3600, Math.ceil((avg * Math.max(1, this.pending.length)) / this.concurrency)));
  }

  async submit(job: NewJob, signal?: AbortSignal): Promise<AnnotationJobView> {
    this.checkCapacity();
    this.accepting++;
    let stored: StoredJob;
    try {
      stored = await this.journal.create(randomUUID(), job, this.o.maxMediaBytes, signal);
    } finally {
      this.accepting--;
    }
    const live: LiveJob = { stored, status: 'queued', rounds: [], listeners: new Set(), writes: Promise.resolve() };
    this.live.set(stored.id, live);
    this.pending.push(stored.id);
    this.log.info({ job: stored.id }, 'annotation job accepted');
    this.pump();
    return this.liveView(live);
  }

  async get(id: string): Promise<AnnotationJobView | undefined> {
    const live = this.live.get(id);
    if (live !== undefined) return this.liveView(live);
    const stored = await this.journal.load(id);
    return stored === undefined ? undefined : viewOf(stored, replay(await this.journal.entries(id)));
  }

  async watch(id: string, listener: JobListener): Promise<JobWatch | undefined> {
    const live = this.live.get(id);
    if (live !== undefined) {
      live.listeners.add(listener);
      return { view: this.liveView(live), unsubscribe: () => live.listeners.delete(listener) };
    }
    const view = await this.get(id);
    if (view === undefined) return undefined;
    // it may have become live again meanwhile only through a restart, which this process is not
    return { view };
  }

  async cancel(id: string): Promise<AnnotationJobView | undefined> {
    const live = this.live.get(id);
    if (live === undefined) return this.get(id);
    if (live.done === undefined) {
      // not taken by a runner yet: it never runs
      const i = this.pending.indexOf(id);
      if (i >= 0) this.pending.splice(i, 1);
      await this.end(live, { type: 'end', status: 'cancelled', at: new Date().toISOString() });
    } else {
      live.controller?.abort(new OmnicapError('ABORTED', 'the annotation job was cancelled', { status: 499 }));
      await live.done;
    }
    return this.get(id);
  }

  private liveView(j: LiveJob): AnnotationJobView {
    return { id: j.stored.id, status: j.status, rounds: [...j.rounds], created_at: j.stored.createdAt, ...(j.startedAt !== undefined ? { started_at: j.startedAt } : {}) };
  }

  private emit(j: LiveJob, e: AnnotationEvent): void {
    for (const l of j.listeners) l(e);
  }

  /** Journals the end (fsync) first, then updates the state and tells the listeners. */
  private async end(j: LiveJob, entry: Extract<JournalEntry, { type: 'end' }>): Promise<void> {
    await j.writes;
    await this.journal.append(j.stored.id, entry);
    this.live.delete(j.stored.id);
    this.emit(j, { type: 'status', status: entry.status });
    if (entry.status === 'done' && entry.record !== undefined) this.emit(j, { type: 'result', record: entry.record });
    if (entry.status === 'failed' && entry.error !== undefined) this.emit(j, { type: 'error', error: entry.error });
    j.listeners.clear();
    this.log.info({ job: j.stored.id, status: entry.status }, 'annotation job ended');
  }

  private pump(): void {
    while (this.closed === undefined && this.running < this.concurrency && this.pending.length > 0) {
      const id = this.pending.shift();
      const job = id === undefined ? undefined : this.live.get(id);
      if (job === undefined || job.status !== 'queued') continue;
      this.running++;
      job.controller = new AbortController();
      job.done = this.run(job, job.controller)
        .catch((e: unknown) => this.log.error({ job: job.stored.id, error: errorDetail(toOmnicapError(e)) }, 'annotation job could not be journaled; it runs again after a restart'))
        .finally(() => {
          this.running--;
          this.pump();
        });
    }
  }

  private async run(j: LiveJob, controller: AbortController): Promise<void> {
    const id = j.stored.id;
    const signal = AbortSignal.any([controller.signal, this.stopping.signal]);
    const at = new Date().toISOString();
    await this.journal.append(id, { type: 'status', status: 'running', at });
    j.status = 'running';
    j.startedAt = at;
    this.emit(j, { type: 'status', status: 'running' });
    const started = Date.now();
    const clip: DetectiveClip = { id, path: j.stored.mediaPath, item: { id, path: j.stored.name } };
    const onRound = (round: DetectiveRound): void => {
      j.rounds.push(round);
      this.emit(j, { type: 'round', round });
      j.writes = j.writes.then(() => this.journal.append(id, { type: 'round', round }));
    };
    let entry: Extract<JournalEntry, { type: 'end' }>;
    try {
      const outcome = await detectClip(clip, this.o.llm, this.o.toolbox, { ...this.o.run, allowRemoteUrls: false, signal, onRound });
      if (this.stopping.signal.aborted && !controller.signal.aborted) return await j.writes;
      const record = publicRecord(outcome.record, j.stored);
      const finished = new Date().toISOString();
      if (controller.signal.aborted) entry = { type: 'end', status: 'cancelled', at: finished };
      else if (outcome.status === 'error') {
        const e = (record.error ?? {}) as { code?: unknown; message?: unknown };
        entry = { type: 'end', status: 'failed', at: finished, record, error: { code: String(e.code ?? 'INTERNAL'), message: String(e.message ?? 'the clip failed') } };
      } else entry = { type: 'end', status: 'done', at: finished, record };
    } catch (e) {
      if (this.stopping.signal.aborted && !controller.signal.aborted) return await j.writes; // shutting down: it runs again after the restart
      const err = toOmnicapError(e);
      const finished = new Date().toISOString();
      entry = controller.signal.aborted ? { type: 'end', status: 'cancelled', at: finished } : { type: 'end', status: 'failed', at: finished, error: { code: err.code, message: hidePath(err.message, j.stored) } };
    }
    this.lastSeconds = [...this.lastSeconds.slice(-9), (Date.now() - started) / 1000];
    await this.end(j, entry);
  }

  /** Stops taking jobs and aborts the running ones (they are still `running` in the journal, so they run again after a restart). */
  dispose(): Promise<void> {
    this.closed ??= (async () => {
      this.stopping.abort(new OmnicapError('NOT_READY', 'the server is shutting down'));
      await Promise.allSettled([...this.live.values()].map((j) => j.done));
      await this.journal.dispose();
    })();
    return this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}
