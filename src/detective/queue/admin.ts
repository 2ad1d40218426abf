/** `omnicap queue status|cancel|obliterate`: look at a queue, cancel clips, remove a finished run. */
import { Queue } from 'bullmq';
import { OmnicapError } from '../../errors';
import { checkRedis, redisOptions, type QueueLocation } from './connection';
import { jobIdFor, type ClipJobData } from './job';
import type { RunManifest } from './manifest';
import { metricsRate, progressOf, queueCounts, type QueueProgress } from './progress';
import { QueueStore, type SinkHolder } from './store';

export interface QueueStatus extends QueueProgress {
  run: Pick<RunManifest, 'signature' | 'input' | 'llm' | 'observers' | 'options' | 'policy' | 'createdAt'> | null;
  sink: Omit<SinkHolder, 'token'> | null;
  workers: number;
}

async function withQueue<T>(loc: QueueLocation, name: string, fn: (q: Queue<ClipJobData>, s: QueueStore) => Promise<T>): Promise<T> {
  await checkRedis(loc);
  const store = new QueueStore(loc, name);
  const queue = new Queue<ClipJobData>(name, { connection: redisOptions(loc) });
  queue.on('error', () => undefined); // a short command after checkRedis(): its own calls fail with the error
  try {
    return await fn(queue, store);
  } finally {
    await queue.close().catch(() => undefined); // closing after the answer (or the command's failure, which is the one reported)
    await store.close();
  }
}

export function queueStatus(loc: QueueLocation, name: string): Promise<QueueStatus> {
  return withQueue(loc, name, async (queue, store) => {
    const [m, counts, rate, workers, sinkText] = await Promise.all([store.getManifest(), queueCounts(queue), metricsRate(queue), queue.getWorkersCount(), store.client.get(store.key('sink'))]);
    const elapsed = m !== undefined ? (Date.now() - Date.parse(m.createdAt)) / 1000 : 0;
    const p = progressOf(name, m?.input.clips ?? counts.waiting + counts.active + counts.delayed + counts.completed + counts.failed, counts, rate, elapsed);
    let sink: QueueStatus['sink'] = null;
    if (sinkText !== null) {
      const { token: _t, ...rest } = JSON.parse(sinkText) as SinkHolder;
      sink = rest;
    }
    const run = m === undefined ? null : { signature: m.signature, input: m.input, llm: m.llm, observers: m.observers, options: m.options, policy: m.policy, createdAt: m.createdAt };
    return { ...p, run, sink, workers };
  });
}

/**
 * Cancels clips (by clip id) or every unfinished clip: a waiting or retrying job is marked and
 * fails with a QUEUE_JOB_CANCELLED line when a worker takes it; a running one is aborted through
 * its AbortSignal on the worker that runs it.
 */
export function cancelClips(loc: QueueLocation, name: string, ids: string[] | 'all', reason = 'cancelled by omnicap queue cancel'): Promise<{ marked: number; notFound: string[] }> {
  return withQueue(loc, name, async (queue, store) => {
    let marked = 0;
    const notFound: string[] = [];
    const jobs = ids === 'all' ? await queue.getJobs(['waiting', 'delayed', 'prioritized', 'active']) : await Promise.all(ids.map((k) => queue.getJob(jobIdFor(k))));
    for (const [i, job] of jobs.entries()) {
      if (job === undefined) {
        if (ids !== 'all') notFound.push(ids[i]);
        continue;
      }
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') continue;
      await job.updateData({ ...job.data, cancelled: reason });
      await store.publishCancel({ jobId: job.id ?? '', reason });
      marked++;
    }
    return { marked, notFound };
  });
}

/** Removes the run: every job and the manifest. Refused while jobs run unless `force`. */
export function obliterateRun(loc: QueueLocation, name: string, force = false): Promise<void> {
  return withQueue(loc, name, async (queue, store) => {
    const active = (await queue.getJobCounts('active')).active ?? 0;
    if (active > 0 && !force) throw new OmnicapError('INVALID_ARGUMENT', `queue ${JSON.stringify(name)} has ${active} running jobs; stop the workers first or pass --force`);
    await queue.obliterate({ force: true });
    await store.deleteManifest();
  });
}
