/** Distributed Omni-Detective on BullMQ/Redis: producer + sink, workers, progress, admin. */
export { parseQueueUrl, checkRedis, redisOptions, type QueueLocation } from './connection';
export { QueueUnreachableError, QueueRunMismatchError, QueueSinkBusyError, InfrastructureError, isInfrastructureFailure } from './errors';
export { jobIdFor, jobData, clipOf, outputId, type ClipJobData } from './job';
export { makeManifest, inputDigest, manifestDifferences, mismatchError, parseManifest, type RunManifest, type RunOptions, type RunPolicy, type LlmSpec, type ObserverSpec, type VlmSpec } from './manifest';
export { bindRun, enqueueClips, type EnqueueSummary } from './producer';
export { ResultSink, failedLine, type SinkCounts } from './sink';
export { RateWindow, formatQueueProgress, progressOf, queueCounts, metricsRate, QueueProgressReporter, type QueueProgress, type QueueCounts, type ProgressMode } from './progress';
export { runQueuedDetect, type QueuedDetectOptions, type QueuedDetectSummary } from './run';
export { runQueueWorker, startQueueWorker, type QueueWorker, type QueueWorkerOptions, type QueueWorkerSummary } from './worker';
export { queueStatus, cancelClips, obliterateRun, type QueueStatus } from './admin';
export { RedisObservationCache, OBSERVATION_PREFIX } from './redis-cache';
export { QueueStore } from './store';
export { InfraWatch } from './infra';
export { createRunLlm, createRunToolbox, runVlmOptions, OBSERVER_NAMES, type LlmOverrides, type VlmOverrides } from './pipeline';
export { QueuedAnnotationJobs, eventsBetween, type QueuedJobsOptions } from './annotations';
