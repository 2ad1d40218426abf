/**
 * The producer: binds a queue to one run (its manifest) and enqueues one job per clip, job id =
 * the clip id, so enqueueing the same input again adds nothing, and clips that already have a
 * line in the output are not enqueued at all.
 */
import type { Queue } from 'bullmq';
import type { DetectiveClip } from '../types';
import { QueueRunMismatchError } from './errors';
import { jobData, jobIdFor, type ClipJobData } from './job';
import { mismatchError, type RunManifest } from './manifest';
import type { QueueStore } from './store';

export interface EnqueueSummary {
  total: number;
  /** Clips with a line in the output already: not enqueued. */
  alreadyWritten: number;
  added: number;
  /** Clips whose job was in the queue already (any state). */
  inQueue: number;
  /** Failed jobs put back in the queue (--retry-failed). */
  retried: number;
}

const CHUNK = 500;

/**
 * The queue's run: the stored manifest when it has this signature; stores this one when the
 * queue is empty. A queue of another run, or jobs without a manifest, is a QueueRunMismatchError
 * and nothing is enqueued.
 */
export async function bindRun(store: QueueStore, queue: Queue<ClipJobData>, wanted: RunManifest): Promise<RunManifest> {
  const stored = await store.getManifest();
  if (stored !== undefined) {
    if (stored.signature !== wanted.signature) throw mismatchError(store.queueName, stored, wanted);
    return stored;
  }
  const counts = await queue.getJobCounts();
  const jobs = Object.values(counts).reduce((a, b) => a + b, 0);
  if (jobs > 0) {
    throw new QueueRunMismatchError(
      `queue ${JSON.stringify(store.queueName)} holds ${jobs} jobs that no omnicap run describes (no run manifest); nothing was enqueued. Use another --queue-name, or empty it with 'omnicap queue obliterate'.`,
      { details: { queue: store.queueName, counts } },
    );
  }
  const now = await store.putManifest(wanted);
  if (now.signature !== wanted.signature) throw mismatchError(store.queueName, now, wanted);
  return now;
}

export async function enqueueClips(queue: Queue<ClipJobData>, clips: readonly DetectiveClip[], run: RunManifest, written: ReadonlySet<string>, opts: { retryFailed?: boolean } = {}): Promise<EnqueueSummary> {
  const s: EnqueueSummary = { total: clips.length, alreadyWritten: 0, added: 0, inQueue: 0, retried: 0 };
  const todo = clips.filter((c) => !written.has(c.id));
  s.alreadyWritten = clips.length - todo.length;
  const jobOpts = { attempts: run.policy.attempts, backoff: { type: 'exponential', delay: run.policy.backoffMs }, removeOnComplete: false, removeOnFail: false };
  for (let i = 0; i < todo.length; i += CHUNK) {
    const chunk = todo.slice(i, i + CHUNK);
    const existing = await Promise.all(chunk.map((c) => queue.getJob(jobIdFor(c.id))));
    const fresh = chunk.filter((_c, k) => existing[k] === undefined);
    for (const job of existing) {
      if (job === undefined) continue;
      s.inQueue++;
      if (opts.retryFailed === true && (await job.isFailed())) {
        const rest: ClipJobData = { ...job.data };
        delete rest.line;
        delete rest.cancelled;
        await job.updateData(rest);
        await job.retry('failed');
        s.retried++;
      }
    }
    if (fresh.length > 0) await queue.addBulk(fresh.map((c) => ({ name: 'clip', data: jobData(c, run.signature), opts: { ...jobOpts, jobId: jobIdFor(c.id) } })));
    s.added += fresh.length;
  }
  return s;
}
