/**
 * Typed errors for the whole library. Every error that crosses a public API is an
 * {@link OmnicapError} with a stable machine-readable `code`, an HTTP status hint for the
 * server's central error handler, and optional structured `details`.
 */

/** Stable error codes. Add new codes here; never rename an existing one. */
export const ERROR_CODES = {
  // generic input validation
  INVALID_ARGUMENT: 400,
  // media
  MEDIA_NOT_FOUND: 404,
  MEDIA_EMPTY: 422,
  MEDIA_TOO_LARGE: 413,
  MEDIA_TOO_LONG: 413,
  MEDIA_CORRUPT: 422,
  MEDIA_NO_AUDIO: 422,
  MEDIA_NO_VIDEO: 422,
  MEDIA_UNSUPPORTED: 415,
  MEDIA_BAD_SAMPLE_RATE: 422,
  MEDIA_ZERO_LENGTH: 422,
  FFMPEG_NOT_FOUND: 500,
  FFMPEG_FAILED: 500,
  // features
  FEATURES_INVALID_INPUT: 400,
  NATIVE_ADDON_UNAVAILABLE: 500,
  // models / engine
  MODEL_NOT_FOUND: 500,
  MODEL_INVALID: 500,
  MODEL_CHECKSUM_MISMATCH: 500,
  MODEL_INPUT_MISSING: 500,
  MODEL_RUN_FAILED: 500,
  PROVIDER_UNAVAILABLE: 500,
  /** With --provider cuda, ONNX Runtime would run some nodes on the CPU EP (details list them). */
  PROVIDER_CPU_FALLBACK: 500,
  /** A build exported for one execution provider loaded with the other (e.g. a CUDA build with --provider cpu). */
  MODEL_PROVIDER_MISMATCH: 500,
  TOKENIZER_INVALID: 500,
  /** A file omnicap would run as code could have been written by another user. */
  UNTRUSTED_FILE: 500,
  // generic runtime
  ABORTED: 499,
  TIMEOUT: 504,
  QUEUE_FULL: 429,
  UNAUTHORIZED: 401,
  FORBIDDEN_PATH: 403,
  NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UPSTREAM_ERROR: 502,
  /** An observer's model endpoint cannot be reached (connection refused or reset, no such host). */
  UPSTREAM_UNREACHABLE: 502,
  /** An observer's model endpoint gave no answer within the observer's time limit (the run itself goes on). */
  UPSTREAM_TIMEOUT: 504,
  /** An observer's model endpoint answered, but not in its protocol (not JSON, no message content, an empty answer). */
  UPSTREAM_BAD_RESPONSE: 502,
  /** An observer's model declined the task (e.g. a text-only model that says it cannot see images). */
  UPSTREAM_REFUSED: 502,
  LLM_BAD_OUTPUT: 502,
  /** Not ready yet (a model still loading, a server starting or shutting down): retry later. */
  NOT_READY: 503,
  /** The resource was disposed (closed) by its owner and is used afterwards: a new one must be made. */
  DISPOSED: 503,
  /** A cache or other infrastructure the run depends on cannot be used (unreachable, not writable). */
  CACHE_UNAVAILABLE: 503,
  /** Admission refused for memory (buffered request bodies), with Retry-After. */
  SERVER_BUSY: 503,
  OBSERVER_NOT_FOUND: 404,
  REMOTE_URL_DISABLED: 403,
  // distributed annotation queue (Redis/BullMQ)
  /** Redis cannot be reached (refused, timed out, not a Redis server). */
  QUEUE_UNREACHABLE: 503,
  /** The queue holds a run with another signature (input, prompts, models or options). */
  QUEUE_RUN_MISMATCH: 409,
  /** Another sink process is already writing this queue's results. */
  QUEUE_SINK_BUSY: 409,
  /** A job failed in the queue without a result line (e.g. its worker died more often than allowed). */
  QUEUE_JOB_FAILED: 500,
  /** A clip's job was cancelled (`omnicap queue cancel`). */
  QUEUE_JOB_CANCELLED: 499,
  /** No annotation job has this id (GET/DELETE /v1/annotations/{id}). */
  JOB_NOT_FOUND: 404,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface OmnicapErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Override the default HTTP status for this code. */
  status?: number;
}

export class OmnicapError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details?: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: OmnicapErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OmnicapError';
    this.code = code;
    this.status = options.status ?? ERROR_CODES[code];
    if (options.details !== undefined) this.details = options.details;
  }

  /** JSON shape used by the HTTP layer and JSONL outputs (never includes a stack). */
  toJSON(): { code: ErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isOmnicapError(e: unknown): e is OmnicapError {
  return e instanceof OmnicapError;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of length ${(value as unknown as { length?: number }).length ?? value.byteLength}`;
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value)}`;
  if (typeof value === 'number') return `number ${value}`;
  return typeof value;
}

/**
 * An untrusted value in an error message: the JSON of a scalar (a long string cut short), else its
 * shape ("array of length 3", "object"). Never walks or serialises a nested value (which may be
 * deep enough to overflow the stack, or huge).
 */
export function quoteValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return describe(value);
}

/** sharp-style parameter error: says what was expected and what came. */
export function invalidParameterError(name: string, expected: string, actual: unknown): OmnicapError {
  return new OmnicapError('INVALID_ARGUMENT', `Expected ${expected} for ${name} but received ${describe(actual)}`, {
    details: { parameter: name, expected },
  });
}

/** True for a file-system error that says the path does not exist (the only one a cache may read as a miss). */
export function isNotFound(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { code?: unknown }).code === 'ENOENT';
}

/** Everything about an error for a log line (never for a client): message, details, the cause chain. */
export function errorDetail(err: OmnicapError): string {
  const parts = [err.message];
  if (err.details !== undefined) parts.push(`details ${JSON.stringify(err.details)}`);
  let cause: unknown = err.cause;
  for (let depth = 0; cause !== undefined && depth < 4; depth += 1) {
    parts.push(`cause ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`);
    cause = cause instanceof Error ? cause.cause : undefined;
  }
  return parts.join(' | ');
}

/** The error every disposed resource throws when it is used: `what` names it, `hint` says how to get a new one. */
export function disposedError(what: string, hint?: string): OmnicapError {
  return new OmnicapError('DISPOSED', `${what} was disposed${hint !== undefined ? `; ${hint}` : ''}`);
}

/** Wrap any thrown value as an OmnicapError (keeps OmnicapErrors as they are). */
export function toOmnicapError(e: unknown, fallback: ErrorCode = 'INTERNAL'): OmnicapError {
  if (e instanceof OmnicapError) return e;
  if (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'AbortError') {
    return new OmnicapError('ABORTED', String((e as { message?: unknown }).message ?? 'aborted'), { cause: e });
  }
  const message = e instanceof Error ? e.message : String(e);
  return new OmnicapError(fallback, message, { cause: e });
}
