/**
 * Annotation jobs on the BullMQ workers (`omnicap serve --detective --queue redis://...`): the
 * server accepts a job as in-process (its media copied into the data directory, which the workers
 * must see at the same path: shared storage) and adds one queue job for it, of a run bound to
 * this server (its manifest); `omnicap worker` processes run it like any clip. A job's state and
 * result are BullMQ's: waiting/delayed -> queued, active -> running, completed -> done, failed ->
 * failed (or cancelled). Workers publish the rounds as the job's progress.
 */
import { randomUUID } from 'node:crypto';
import { Queue, type Job } from 'bullmq';
import { OmnicapError } from '../../errors';
import { JobJournal, type StoredJob } from '../jobs/journal';
import { hidePath, jobsFullError, publicRecord } from '../jobs/shared';
import { JOB_ID, TERMINAL_STATUSES, type AnnotationEvent, type AnnotationJobs, type AnnotationJobStatus, type AnnotationJobView, type JobListener, type JobWatch, type NewJob } from '../jobs/types';
import type { DetectiveRound } from '../types';
import { checkRedis, redisOptions, type QueueLocation } from './connection';
import { jobData, jobIdFor, type ClipJobData } from './job';
import type { RunManifest } from './manifest';
import { bindRun } from './producer';
import { failedLine } from './sink';
import { QueueStore } from './store';

export interface QueuedJobsOptions {
  location: QueueLocation;
  queueName: string;
  /** Where clips are copied (the workers read them at the same path). */
  dataDir: string;
  /** The run this server's jobs belong to (its options, models and observers). */
  manifest: RunManifest;
  /** Jobs waiting or running in the queue at once; more are refused with QUEUE_FULL (default 64). */
  maxPending?: number;
  maxMediaBytes: number;
  /** How often a watched job is looked at, and the queue counted (default 500 ms). */
  pollMs?: number;
}

const CANCELLED = 'cancelled by DELETE /v1/annotations';

function roundsOf(job: Job<ClipJobData>): DetectiveRound[] {
  const p: unknown = job.progress;
  if (typeof p === 'object' && p !== null && Array.isArray((p as { rounds?: unknown }).rounds)) return (p as { rounds: DetectiveRound[] }).rounds;
  return [];
}

function statusOf(state: string, job: Job<ClipJobData>): AnnotationJobStatus {
  if (job.data.cancelled !== undefined && state !== 'completed') return 'cancelled';
  if (state === 'active') return 'running';
  if (state === 'completed') return 'done';
  if (state === 'failed') return 'failed';
  return 'queued';
}

const iso = (ms: number | undefined): string | undefined => (ms === undefined || ms === null || ms === 0 ? undefined : new Date(ms).toISOString());

export class QueuedAnnotationJobs implements AnnotationJobs {
  readonly runsOn = 'queue' as const;
  private pendingCount = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly watchers = new Set<NodeJS.Timeout>();
  private closed: Promise<void> | undefined;
  private readonly maxPending: number;
  private readonly pollMs: number;

  private constructor(
    private readonly o: QueuedJobsOptions,
    private readonly queue: Queue<ClipJobData>,
    private readonly store: QueueStore,
    private readonly journal: JobJournal,
  ) {
    this.maxPending = o.maxPending ?? 64;
    this.pollMs = o.pollMs ?? 500;
    this.timer = setInterval(() => void this.count().catch(() => undefined), this.pollMs); // an outage shows in submit and get, which fail with it
    this.timer.unref();
  }

  /** Connects (QUEUE_UNREACHABLE when Redis is not there), binds the queue to this server's run (QUEUE_RUN_MISMATCH for another run's queue). */
  static async open(o: QueuedJobsOptions): Promise<QueuedAnnotationJobs> {
    await checkRedis(o.location);
    const store = new QueueStore(o.location, o.queueName);
    const queue = new Queue<ClipJobData>(o.queueName, { connection: redisOptions(o.location) });
    queue.on('error', () => undefined); // reconnects; the calls below fail with the error meanwhile
    try {
      await bindRun(store, queue, o.manifest);
      const jobs = new QueuedAnnotationJobs(o, queue, store, await JobJournal.open(o.dataDir));
      await jobs.count();
      return jobs;
    } catch (e) {
      await queue.close();
      await store.close();
      throw e;
    }
  }

  private async count(): Promise<void> {
    const c = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    this.pendingCount = Object.values(c).reduce((a, b) => a + b, 0);
  }

  checkCapacity(): void {
    if (this.closed !== undefined) throw new OmnicapError('NOT_READY', 'the annotation jobs are shutting down');
    if (this.pendingCount >= this.maxPending) throw jobsFullError(this.pendingCount, this.maxPending, Math.max(1, Math.ceil(this.pollMs / 1000)));
  }

  async submit(job: NewJob, signal?: AbortSignal): Promise<AnnotationJobView> {
    this.checkCapacity();
    this.pendingCount++;
    const stored = await this.journal.create(randomUUID(), job, this.o.maxMediaBytes, signal);
    const p = this.o.manifest.policy;
    const data = jobData({ id: stored.id, path: stored.mediaPath, item: { id: stored.id, path: stored.name } }, this.o.manifest.signature);
    await this.queue.add('clip', data, { jobId: jobIdFor(stored.id), attempts: p.attempts, backoff: { type: 'exponential', delay: p.backoffMs }, removeOnComplete: false, removeOnFail: false });
    return { id: stored.id, status: 'queued', rounds: [], created_at: stored.createdAt };
  }

  private async find(id: string): Promise<{ job: Job<ClipJobData>; stored: StoredJob } | undefined> {
    if (!JOB_ID.test(id)) return undefined;
    const [job, stored] = await Promise.all([this.queue.getJob(jobIdFor(id)), this.journal.load(id)]);
    return job === undefined || stored === undefined ? undefined : { job, stored };
  }

  private async view(job: Job<ClipJobData>, stored: StoredJob): Promise<AnnotationJobView> {
    const status = statusOf(await job.getState(), job);
    const v: AnnotationJobView = { id: stored.id, status, rounds: roundsOf(job), created_at: new Date(job.timestamp).toISOString() };
    const started = iso(job.processedOn);
    if (started !== undefined) v.started_at = started;
    if (status === 'done') {
      v.result = publicRecord(job.returnvalue as unknown as Record<string, unknown>, stored);
      const t = (v.result as { omni_detective_trajectory?: unknown }).omni_detective_trajectory;
      if (Array.isArray(t) && typeof t[0] === 'object' && t[0] !== null && 'round' in t[0]) v.rounds = t as DetectiveRound[];
    } else if (status === 'failed') {
      const line = publicRecord(failedLine(job), stored);
      const e = (line.error ?? {}) as { code?: unknown; message?: unknown };
      v.result = line;
      v.error = { code: String(e.code ?? 'QUEUE_JOB_FAILED'), message: hidePath(String(e.message ?? 'the job failed'), stored) };
    }
    if (TERMINAL_STATUSES.has(status)) {
      const finished = iso(job.finishedOn) ?? (status === 'cancelled' ? new Date().toISOString() : undefined);
      if (finished !== undefined) v.finished_at = finished;
    }
    return v;
  }

  async get(id: string): Promise<AnnotationJobView | undefined> {
    const f = await this.find(id);
    return f === undefined ? undefined : this.view(f.job, f.stored);
  }

  /** Marks the job cancelled: a waiting one fails without running when a worker takes it; a running one is aborted on its worker. */
  async cancel(id: string): Promise<AnnotationJobView | undefined> {
    const f = await this.find(id);
    if (f === undefined) return undefined;
    const state = await f.job.getState();
    if (state !== 'completed' && state !== 'failed' && f.job.data.cancelled === undefined) {
      await f.job.updateData({ ...f.job.data, cancelled: CANCELLED });
      if (state === 'active') await this.store.publishCancel({ jobId: f.job.id ?? '', reason: CANCELLED });
    }
    return this.get(id);
  }

  async watch(id: string, listener: JobListener): Promise<JobWatch | undefined> {
    const f = await this.find(id);
    if (f === undefined) return undefined;
    const first = await this.view(f.job, f.stored);
    if (TERMINAL_STATUSES.has(first.status)) return { view: first };
    let last = first;
    let busy = false;
    const timer: NodeJS.Timeout = setInterval(() => {
      if (busy) return;
      busy = true;
      void this.get(id)
        .then((now) => {
          if (now === undefined || !this.watchers.has(timer)) return;
          for (const e of eventsBetween(last, now)) listener(e);
          last = now;
          if (TERMINAL_STATUSES.has(now.status)) stop();
        })
        .catch(() => undefined) // a Redis outage: the next tick asks again (GET answers the error itself)
        .finally(() => (busy = false));
    }, this.pollMs);
    const stop = (): void => {
      clearInterval(timer);
      this.watchers.delete(timer);
    };
    this.watchers.add(timer);
    return { view: first, unsubscribe: stop };
  }

  dispose(): Promise<void> {
    this.closed ??= (async () => {
      clearInterval(this.timer);
      for (const t of this.watchers) clearInterval(t);
      this.watchers.clear();
      await this.queue.close();
      await this.store.close();
      await this.journal.dispose();
    })();
    return this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.dispose();
  }
}

/** The events that lead from one view of a job to a later one. */
export function eventsBetween(before: AnnotationJobView, after: AnnotationJobView): AnnotationEvent[] {
  const out: AnnotationEvent[] = [];
  if (after.status === 'running' && before.status !== 'running') out.push({ type: 'status', status: 'running' });
  const from = after.started_at === before.started_at ? before.rounds.length : 0;
  for (const round of after.rounds.slice(from)) out.push({ type: 'round', round });
  if (TERMINAL_STATUSES.has(after.status)) out.push({ type: 'status', status: after.status });
  if (after.status === 'done' && after.result !== undefined) out.push({ type: 'result', record: after.result });
  if (after.status === 'failed' && after.error !== undefined) out.push({ type: 'error', error: after.error });
  return out;
}
