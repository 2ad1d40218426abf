/**
 * `omnicap worker`: takes clip jobs from the queue and runs the same per-clip step as
 * `omnicap detect` (`detectClip`), N at a time, with the LLM and observers the run manifest names.
 *
 * - A bad clip (corrupt media, ...) gets its error line and fails for good (UnrecoverableError).
 * - An infrastructure failure (LLM or observer endpoint down, timeout, dead model process) fails
 *   the attempt: BullMQ retries it with exponential backoff, here or on another worker; the last
 *   attempt keeps what the Detective made of it (a degraded caption or an error line).
 * - A worker that dies (kill -9) stops renewing its locks; another worker's stalled-job check puts
 *   its jobs back in the queue.
 * - Cancellation (`omnicap queue cancel`), lock loss and the per-job timeout abort the clip's
 *   AbortSignal; stopping the worker (SIGTERM, stop(), the end of an `await using` block) puts its
 *   active jobs back without using an attempt.
 * - An observation cache that cannot be reached at start is a CACHE_UNAVAILABLE error then; one
 *   that fails later is counted (summary `infraFailures`), logged once per interval, and skipped.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { MetricsTime, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { OmnicapError, errorDetail, toOmnicapError } from '../../errors';
import type { ChatModel } from '../../llm/types';
import { combineSignals } from '../../util/abort';
import { InfraFailures, countsSince } from '../../util/failures';
import { createLogger, type Logger } from '../../util/log';
import { detectClip } from '../batch';
import { ObservationCache, type ObservationStore } from '../cache';
import { CpuGate, gateChatModel } from '../cpu-gate';
import type { DetectiveToolbox } from '../toolbox';
import type { DetectiveRound } from '../types';
import { checkRedis, parseQueueUrl, redisOptions, type QueueLocation } from './connection';
import { InfrastructureError, isInfrastructureFailure } from './errors';
import { InfraWatch } from './infra';
import { clipOf, outputId, type ClipJobData } from './job';
import type { RunManifest } from './manifest';
import { createRunLlm, createRunToolbox, type LlmOverrides, type VlmOverrides } from './pipeline';
import { RedisObservationCache } from './redis-cache';
import { QueueStore } from './store';

export const CANCEL_PREFIX = 'omnicap:cancel:';
const LOCK_LOST = 'omnicap:lock-lost';

export interface QueueWorkerOptions {
  location: QueueLocation;
  queueName: string;
  /** Clips processed at once by this process (default 1). */
  concurrency?: number;
  /** `redis` (default: the queue's Redis), another `redis://` URL, `none`, or a directory (e.g. on shared storage). */
  cache?: string;
  /** Where remote (http) clips are downloaded (default: a private directory made for this worker, removed when it stops). */
  mediaDir?: string;
  llm?: LlmOverrides;
  /** This worker's URL and key for the run's vision model. */
  vlm?: VlmOverrides;
  /** Job lock duration (default 30000 ms); a dead worker's jobs return after about this long. */
  lockMs?: number;
  /** Interval of the stalled-job check (default 30000 ms). */
  stalledIntervalMs?: number;
  /** Times a job may stall (its worker died) before it fails (default 2). */
  maxStalledCount?: number;
  /** Wait this long for a run manifest to appear (default: until stopped). */
  waitForRunMs?: number;
  /** Stops the worker: active clips are aborted and go back to the queue. */
  signal?: AbortSignal;
  /** Structured log (job done, retried, failed, Redis down/up, cache failures); default: nothing. */
  logger?: Logger;
  /** Test seam: build the LLM another way (default: from the manifest). */
  makeLlm?: (m: RunManifest) => Promise<ChatModel>;
}

export interface QueueWorkerSummary {
  ok: number;
  degraded: number;
  errors: number;
  /** Attempts that failed for infrastructure and were left to retry. */
  retried: number;
  cancelled: number;
  /** Infrastructure failures this worker went on without (e.g. `observation_cache_read`), by kind; see the log for their detail. */
  infraFailures: Record<string, number>;
}

/** A running worker; `await using` (or dispose()) stops it and waits until it has stopped. */
export interface QueueWorker extends AsyncDisposable {
  /** Settles when the worker has stopped: its summary, or why it could not run (e.g. QUEUE_UNREACHABLE). */
  readonly done: Promise<QueueWorkerSummary>;
  /** Stops taking jobs; running clips are aborted and go back to the queue. Resolves with the summary. */
  stop(): Promise<QueueWorkerSummary>;
  /**
   * Stops the worker and waits until its connections are closed, its LLM and observers disposed and
   * its download directory removed. It never rejects: a failure of the run itself is `done`'s.
   */
  dispose(): Promise<void>;
}

function isAbortOf(signal: AbortSignal | undefined, what: (reason: unknown) => boolean): boolean {
  return signal?.aborted === true && what(signal.reason);
}

/** The queue's run manifest; undefined when the worker is stopped while it waits for one. */
async function waitForManifest(store: QueueStore, o: QueueWorkerOptions, log: Logger): Promise<RunManifest | undefined> {
  const deadline = o.waitForRunMs === undefined ? Infinity : Date.now() + o.waitForRunMs;
  let said = false;
  for (;;) {
    const m = await store.getManifest();
    if (m !== undefined) return m;
    if (o.signal?.aborted === true) return undefined;
    if (Date.now() > deadline) throw new OmnicapError('NOT_READY', `queue ${JSON.stringify(o.queueName)} at ${o.location.display} has no run yet (start the producer: omnicap detect --queue ...)`);
    if (!said) log.info({ queue: o.queueName }, 'waiting for a run on the queue');
    said = true;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The cache `--cache` names, checked now: `redis` (the queue's Redis), another redis:// URL (a Redis of its own, sized for observations), `none`, or a directory. */
async function openObservationStore(o: QueueWorkerOptions, failures: InfraFailures): Promise<(ObservationStore & Partial<AsyncDisposable>) | undefined> {
  const c = o.cache ?? 'redis';
  if (c === 'none') return undefined;
  if (c === 'redis') return RedisObservationCache.connect(o.location, { failures });
  if (/^rediss?:\/\//.test(c)) return RedisObservationCache.connect(parseQueueUrl(c), { failures });
  return ObservationCache.open(c);
}

/** Starts a worker; it runs until stop(), `o.signal` or the end of an `await using` block. */
export function startQueueWorker(o: QueueWorkerOptions): QueueWorker {
  const stopper = new AbortController();
  const signal = o.signal === undefined ? stopper.signal : AbortSignal.any([o.signal, stopper.signal]);
  const done = runWorker({ ...o, signal });
  const stop = (): Promise<QueueWorkerSummary> => {
    stopper.abort('stop');
    return done;
  };
  const dispose = async (): Promise<void> => {
    stopper.abort('stop');
    await Promise.allSettled([done]); // waits for the clean-up; the run's own failure is reported by `done`
  };
  return { done, stop, dispose, [Symbol.asyncDispose]: dispose };
}

/** Runs until `signal` aborts; resolves with what this worker did (startQueueWorker(o).done). */
export function runQueueWorker(o: QueueWorkerOptions): Promise<QueueWorkerSummary> {
  return startQueueWorker(o).done;
}

async function runWorker(o: QueueWorkerOptions): Promise<QueueWorkerSummary> {
  const log = o.logger ?? createLogger(undefined);
  const failures = new InfraFailures(log);
  const concurrency = o.concurrency ?? 1;
  await checkRedis(o.location);
  // a shared, predictable default would let another user plant a 'downloaded' clip under the expected name
  const mediaDir = o.mediaDir ?? (await mkdtemp(join(tmpdir(), 'omnicap-media-')));
  const ownMediaDir = o.mediaDir === undefined ? mediaDir : undefined;
  const store = new QueueStore(o.location, o.queueName);
  let llm: ChatModel | undefined;
  let toolbox: DetectiveToolbox | undefined;
  let worker: Worker<ClipJobData, Record<string, unknown>> | undefined;
  let cache: (ObservationStore & Partial<AsyncDisposable>) | undefined;
  const summary: QueueWorkerSummary = { ok: 0, degraded: 0, errors: 0, retried: 0, cancelled: 0, infraFailures: {} };
  try {
    cache = await openObservationStore(o, failures);
    const manifest = await waitForManifest(store, o, log);
    if (manifest === undefined) return summary;
    llm = o.makeLlm !== undefined ? await o.makeLlm(manifest) : await createRunLlm(manifest.llm, o.llm ?? {}, concurrency);
    // one core budget for this worker's observers and a local LLM (never oversubscribed)
    const cpu = new CpuGate(availableParallelism());
    toolbox = createRunToolbox(manifest.observers, cache, cpu, failures, o.vlm);
    const runLlm = gateChatModel(llm, cpu);
    const runTools = toolbox;
    const stopping = new AbortController();

    const processor = async (job: Job<ClipJobData, Record<string, unknown>>, token?: string, signal?: AbortSignal): Promise<Record<string, unknown>> => {
      const data = job.data;
      if (data.signature !== manifest.signature) {
        const now = await store.getManifest();
        if (now === undefined || now.signature !== data.signature) throw new Error(`job ${job.id} belongs to no run this worker knows (signature ${data.signature.slice(0, 12)})`);
        // the queue was emptied and holds a new run: this worker was built for the old one
        stopping.abort('run changed');
        throw new Error('the queue holds a new run; this worker stops (restart it to work on the new run)');
      }
      const attempts = job.opts.attempts ?? 1;
      const last = job.attemptsMade + 1 >= attempts;
      const fail = async (line: Record<string, unknown>, message: string): Promise<never> => {
        await job.updateData({ ...data, line });
        throw new UnrecoverableError(message);
      };
      const errorLine = (e: OmnicapError): Record<string, unknown> => {
        const line: Record<string, unknown> = { id: outputId(data), status: 'error', media: { path: data.path, ...(data.remoteUrl !== undefined ? { url: data.remoteUrl } : {}) } };
        if (data.item !== undefined) line.input = data.item;
        return Object.assign(line, { error: e.toJSON(), attempts: job.attemptsMade + 1, prompt_version: manifest.options.promptVersion, models: { detective: runLlm.id }, seed: manifest.options.seed });
      };
      const cancelled = data.cancelled;
      if (cancelled !== undefined) {
        summary.cancelled++;
        return fail(errorLine(new OmnicapError('QUEUE_JOB_CANCELLED', cancelled)), `cancelled: ${cancelled}`);
      }
      const timeout = manifest.policy.jobTimeoutMs > 0 ? AbortSignal.timeout(manifest.policy.jobTimeoutMs) : undefined;
      const clipSignal = combineSignals([signal, stopping.signal, timeout]);
      const watch = new InfraWatch();
      // the rounds so far are the job's progress (GET /v1/annotations/{id} of a server on this queue shows them)
      const rounds: DetectiveRound[] = [];
      let published: Promise<void> = Promise.resolve();
      const onRound = (r: DetectiveRound): void => {
        rounds.push(r);
        const now = [...rounds];
        published = published.then(() => job.updateProgress({ rounds: now })).catch((e: unknown) => log.warn({ job: job.id, error: errorDetail(toOmnicapError(e)) }, 'could not publish the rounds of a job'));
      };
      let outcome;
      try {
        outcome = await detectClip(clipOf(data, mediaDir), watch.llm(runLlm), watch.toolbox(runTools), { ...manifest.options, signal: clipSignal, onRound });
        await published;
      } catch (e) {
        const err = toOmnicapError(e);
        if (stopping.signal.aborted) {
          // stopping: back to the queue without using an attempt
          if (token !== undefined) await job.moveToWait(token);
          throw new WaitingError();
        }
        if (isAbortOf(signal, (r) => r === LOCK_LOST)) throw new Error(`lost the lock of job ${job.id}; another worker redoes it`);
        if (isAbortOf(signal, (r) => typeof r === 'string' && r.startsWith(CANCEL_PREFIX))) {
          summary.cancelled++;
          const reason = String(signal?.reason).slice(CANCEL_PREFIX.length);
          return fail(errorLine(new OmnicapError('QUEUE_JOB_CANCELLED', reason)), `cancelled: ${reason}`);
        }
        if (timeout?.aborted === true) {
          const t = new OmnicapError('TIMEOUT', `the clip took longer than the per-job timeout of ${manifest.policy.jobTimeoutMs} ms`, { details: { retryable: true } });
          if (last) return fail(errorLine(t), t.message);
          summary.retried++;
          throw new InfrastructureError(t);
        }
        throw err;
      }
      const infra = watch.failures[0] ?? (outcome.status === 'error' && isInfrastructureFailure(errorOf(outcome.record)) ? errorOf(outcome.record) : undefined);
      if (infra !== undefined && !last) {
        summary.retried++;
        throw new InfrastructureError(infra);
      }
      if (outcome.status === 'error') {
        summary.errors++;
        const e = errorOf(outcome.record);
        return fail({ ...outcome.record, attempts: job.attemptsMade + 1 }, `${e?.code ?? 'INTERNAL'}: ${e?.message ?? 'clip failed'}`);
      }
      if (outcome.status === 'ok') summary.ok++;
      else summary.degraded++;
      return outcome.record;
    };

    worker = new Worker<ClipJobData, Record<string, unknown>>(o.queueName, processor, {
      connection: redisOptions(o.location),
      // stored on each job it takes (job.processedBy): who runs what, in `omnicap queue status` and the tests
      name: `${hostname()}/${process.pid}`,
      concurrency,
      lockDuration: o.lockMs ?? 30_000,
      stalledInterval: o.stalledIntervalMs ?? 30_000,
      maxStalledCount: o.maxStalledCount ?? 2,
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      autorun: false,
    });
    const w = worker;
    let redisDown = false;
    w.on('error', (e: Error) => {
      if (!redisDown) log.error({ error: e.message }, 'queue Redis error; reconnecting');
      redisDown = true;
    });
    w.on('ready', () => {
      if (redisDown) log.info('queue Redis connection back');
      redisDown = false;
    });
    w.on('lockRenewalFailed', (ids: string[]) => ids.forEach((id) => w.cancelJob(id, LOCK_LOST)));
    w.on('stalled', (id: string) => log.warn({ job: id }, 'job had stalled (its worker died); back in the queue'));
    w.on('completed', (job) => log.info({ job: job.id, status: String(job.returnvalue?.status) }, 'job done'));
    w.on('failed', (job, err) => {
      if (err instanceof UnrecoverableError) log.warn({ job: job?.id, error: err.message }, 'job failed');
      else log.warn({ job: job?.id, error: err.message }, 'job attempt failed, will retry');
    });
    await store.onCancel((m) => {
      if (m.jobId === '*') w.cancelAllJobs(CANCEL_PREFIX + m.reason);
      else w.cancelJob(m.jobId, CANCEL_PREFIX + m.reason);
    });
    const stop = (): void => stopping.abort('stop');
    o.signal?.addEventListener('abort', stop, { once: true });
    if (o.signal?.aborted === true) stop();
    log.info({ queue: o.queueName, at: o.location.display, concurrency, llm: runLlm.id, observers: manifest.observers.names }, 'worker started');
    const running = w.run();
    await new Promise<void>((resolve) => (stopping.signal.aborted ? resolve() : stopping.signal.addEventListener('abort', () => resolve(), { once: true })));
    await w.close();
    await running.catch((e: unknown) => log.warn({ error: errorDetail(toOmnicapError(e)) }, 'the run loop ended with an error after close'));
    summary.infraFailures = countsSince({}, failures.snapshot());
    return summary;
  } finally {
    // after a failure in the try block, that failure is the one reported; a close failing as well is logged
    await worker?.close().catch((e: unknown) => log.warn({ error: errorDetail(toOmnicapError(e)) }, 'closing the BullMQ worker failed'));
    await toolbox?.dispose();
    await llm?.dispose();
    await cache?.[Symbol.asyncDispose]?.();
    await store.close();
    if (ownMediaDir !== undefined) await rm(ownMediaDir, { recursive: true, force: true });
  }
}

function errorOf(record: Record<string, unknown>): OmnicapError | undefined {
  const e = record.error as { code?: unknown; message?: unknown; details?: unknown } | undefined;
  if (e === undefined || typeof e.code !== 'string') return undefined;
  return new OmnicapError(e.code as OmnicapError['code'], String(e.message ?? ''), typeof e.details === 'object' && e.details !== null ? { details: e.details as Record<string, unknown> } : {});
}
