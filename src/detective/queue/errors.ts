/** Typed errors of the distributed annotation queue; each keeps a stable `code` (src/errors.ts). */
import { OmnicapError, type OmnicapErrorOptions } from '../../errors';

/** Redis cannot be reached at the queue URL (refused, timed out, or not a Redis server). */
export class QueueUnreachableError extends OmnicapError {
  constructor(message: string, options: OmnicapErrorOptions = {}) {
    super('QUEUE_UNREACHABLE', message, options);
    this.name = 'QueueUnreachableError';
  }
}

/** The queue holds a run of another input, prompt version, models or options: never mixed. */
export class QueueRunMismatchError extends OmnicapError {
  constructor(message: string, options: OmnicapErrorOptions = {}) {
    super('QUEUE_RUN_MISMATCH', message, options);
    this.name = 'QueueRunMismatchError';
  }
}

/** Another sink (a producer with --output) is writing this queue's results. */
export class QueueSinkBusyError extends OmnicapError {
  constructor(message: string, options: OmnicapErrorOptions = {}) {
    super('QUEUE_SINK_BUSY', message, options);
    this.name = 'QueueSinkBusyError';
  }
}

/**
 * A failure of the infrastructure around a clip (LLM or observer endpoint down, timeout, a model
 * process that died): the job is retried with backoff, on this worker or another.
 */
export class InfrastructureError extends OmnicapError {
  constructor(cause: OmnicapError) {
    super(cause.code, `infrastructure failure (${cause.code}): ${cause.message}`, { cause, details: { ...cause.details, retryable: true } });
    this.name = 'InfrastructureError';
  }
}

/**
 * True for an error that says nothing about the clip: its transport marked it retryable (HTTP
 * 408/429/5xx, connection refused, per-attempt timeout), or the local model process died.
 */
export function isInfrastructureFailure(e: unknown): e is OmnicapError {
  if (!(e instanceof OmnicapError)) return false;
  if (e.details?.retryable === true) return true;
  return e.code === 'MODEL_RUN_FAILED' && /process exited/.test(e.message);
}
