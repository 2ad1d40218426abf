/**
 * `omnicap detect --queue`: the producer and the sink in one process. Binds the queue to this run,
 * enqueues the clips that have no line in the output, then (unless enqueue-only) writes each
 * finished clip's line once and reports progress until every clip of the run has its line.
 */
import { Queue } from 'bullmq';
import { abortError } from '../../util/abort';
import type { DetectiveClip } from '../types';
import { checkRedis, redisOptions, type QueueLocation } from './connection';
import type { ClipJobData } from './job';
import type { RunManifest } from './manifest';
import { bindRun, enqueueClips, type EnqueueSummary } from './producer';
import { progressOf, queueCounts, QueueProgressReporter, RateWindow, type ProgressMode, type QueueProgress } from './progress';
import { ResultSink, type SinkCounts } from './sink';
import { QueueStore } from './store';

export interface QueuedDetectOptions {
  location: QueueLocation;
  queueName: string;
  clips: DetectiveClip[];
  manifest: RunManifest;
  /** The output JSONL; without it the clips are only enqueued (another process is the sink). */
  output?: string;
  /** Put failed jobs of clips without a line in the output back in the queue. */
  retryFailed?: boolean;
  signal?: AbortSignal;
  progress?: { stream: NodeJS.WritableStream; mode: ProgressMode; tty?: boolean; intervalMs?: number };
  /** How often the sink looks for finished jobs (default 1000 ms). */
  pollMs?: number;
  /** Sink lock lifetime, renewed at a third of it (default 30000 ms). */
  sinkTtlMs?: number;
}

export interface QueuedDetectSummary {
  enqueue: EnqueueSummary;
  /** Lines written by this sink, by status (undefined: enqueue only). */
  written?: SinkCounts;
  /** Clips of the run still without a line when the sink stopped (0 when finished). */
  missing: number;
  seconds: number;
  progress?: QueueProgress;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Waits for `p` at most `ms` (a close that waits for a Redis that is gone); never rejects. */
async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** `p`, or an ABORTED error as soon as the signal fires (a Redis command may wait for a reconnect). */
function orAbort<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (signal === undefined) return p;
  return new Promise<T>((resolve, reject) => {
    if (signal.aborted) return reject(abortError(signal));
    const onAbort = (): void => reject(abortError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export async function runQueuedDetect(o: QueuedDetectOptions): Promise<QueuedDetectSummary> {
  const started = Date.now();
  await checkRedis(o.location);
  const store = new QueueStore(o.location, o.queueName);
  const queue = new Queue<ClipJobData>(o.queueName, { connection: redisOptions(o.location) });
  queue.on('error', () => undefined); // reconnects; the loop below waits for it
  let sink: ResultSink | undefined;
  let holder: Awaited<ReturnType<QueueStore['acquireSink']>> | undefined;
  const ttl = o.sinkTtlMs ?? 30_000;
  try {
    const run = await bindRun(store, queue, o.manifest);
    if (o.output !== undefined) {
      holder = await store.acquireSink(o.output, ttl);
      sink = await ResultSink.open(o.output, run.options.format);
    }
    const enqueue = await enqueueClips(queue, o.clips, run, sink?.written ?? new Set(), { retryFailed: o.retryFailed });
    if (sink === undefined || holder === undefined) return { enqueue, missing: o.clips.length - enqueue.alreadyWritten, seconds: (Date.now() - started) / 1000 };

    const keys = o.clips.map((c) => c.id);
    const out = sink;
    const missing = (): number => keys.filter((k) => !out.has(k)).length;
    const reporter = o.progress !== undefined ? new QueueProgressReporter(o.progress.stream, o.progress.mode, o.progress.tty, o.progress.intervalMs) : undefined;
    const rate = new RateWindow();
    let progress: QueueProgress | undefined;
    let lastRenew = Date.now();
    let lastFull = 0;
    let left = missing();
    const finishedNow = (c: { completed: number; failed: number }): number => c.completed + c.failed;
    try {
      await orAbort(sink.drain(queue, true), o.signal);
      lastFull = Date.now();
      left = missing();
      while (left > 0 && o.signal?.aborted !== true) {
        const now = Date.now();
        if (now - lastRenew > ttl / 3) {
          await orAbort(store.renewSink(holder, ttl), o.signal);
          lastRenew = now;
        }
        const counts = await orAbort(queueCounts(queue), o.signal);
        const idle = counts.waiting + counts.active + counts.delayed === 0;
        const full = idle && now - lastFull > 5000;
        await orAbort(sink.drain(queue, full), o.signal);
        if (full) lastFull = now;
        left = missing();
        rate.add(now, finishedNow(counts));
        progress = progressOf(o.queueName, keys.length, counts, rate.perMinute(), (now - started) / 1000, keys.length - left);
        reporter?.update(progress, now);
        if (left > 0) await sleep(o.pollMs ?? 1000, o.signal);
      }
    } catch (e) {
      if (o.signal?.aborted !== true) throw e;
    }
    if (o.signal?.aborted !== true) {
      const counts = await queueCounts(queue);
      progress = progressOf(o.queueName, keys.length, counts, rate.perMinute(), (Date.now() - started) / 1000, keys.length - left);
    }
    if (progress !== undefined) reporter?.end(progress);
    return { enqueue, written: { ...sink.counts }, missing: left, seconds: (Date.now() - started) / 1000, progress };
  } finally {
    await sink?.dispose();
    if (holder !== undefined) await bounded(store.releaseSink(holder), 2000);
    await bounded(queue.close(), 2000);
    await bounded(store.close(), 2000);
  }
}
