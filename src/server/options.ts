/** Server factory options, their defaults and validation (no global config: one object per server). */
import { statSync } from 'node:fs';
import { OmnicapError, invalidParameterError } from '../errors';
import { GENERATION_LIMITS, LLM_LIMITS, MAX_TIMER_MS, checkRange, type NumberRange } from '../schema/limits';
import { LOG_LEVELS, isLogLevel, type LogLevel } from '../util/log';
import type { Captioner } from '../engine/types';
import type { ChatModel } from '../llm/types';
import type { ObserverRegistry } from '../observers';
import type { AnnotationJobs } from '../detective/jobs';

export interface ServerOptions {
  /**
   * The captioner: a loaded instance (not disposed by the server unless `disposeCaptioner`), or a
   * loader called once by `listen()`/`ready()` whose result the server owns and disposes.
   */
  captioner: Captioner | (() => Promise<Captioner>);
  disposeCaptioner?: boolean;
  /**
   * Optional text LLM for text-only chat completions (no audio part): a loaded ChatModel (not
   * disposed unless `disposeLlm`) or a loader the server calls once and owns.
   */
  llm?: ChatModel | (() => Promise<ChatModel>);
  disposeLlm?: boolean;
  /** Completion token limit of the text LLM when a request gives none (default 1024). */
  llmMaxTokens?: number;
  /** Caption token limit when a request gives no max_tokens (default: the model manifest's). */
  defaultMaxTokens?: number;
  /** Extra observers (the Detective's). The captioner is always observer "captioner". */
  observers?: ObserverRegistry;
  /**
   * Annotation jobs (the Detective over HTTP): mounts /v1/annotations. Owned by the caller, who
   * disposes it after the server has closed.
   */
  annotations?: AnnotationJobs;
  /** Bearer API keys; empty/absent = no auth. Applies to /v1/*. */
  apiKeys?: readonly string[];
  /** Serve the demo page at / and GET /v1/ui/config (default true; false: / is 404). */
  ui?: boolean;
  /** Directories server-side `path`/`file://` media must resolve into. Empty = paths disabled. */
  mediaRoots?: readonly string[];
  /** Upload / decoded-base64 / server-side file size limit in bytes (default 25 MiB). */
  maxUploadBytes?: number;
  /** Audio duration limit in seconds (default 600). */
  maxAudioSeconds?: number;
  /** Generations running at once on the shared model (default 1). */
  concurrency?: number;
  /** Requests allowed to wait for a slot (default 16; 0 = reject when all slots are busy). */
  maxQueue?: number;
  /** Whole-request timeout in ms, queue wait included; aborts the engine (default 300000; 0 = none). */
  timeoutMs?: number;
  /** Allow http(s) media URLs (default false: air-gapped). */
  allowRemoteUrls?: boolean;
  /** How long close() waits for in-flight requests before aborting them (default 10000 ms). */
  shutdownGraceMs?: number;
  /** Bytes all admitted requests may buffer at once (default 4 x maxUploadBytes, at least one largest JSON body). Over it: 503 SERVER_BUSY. */
  maxBufferedBytes?: number;
  /** Media decodes at once (default 2); a decoded clip keeps its slot until it gets a run slot. */
  maxConcurrentDecodes?: number;
  /** A request's headers must arrive within this (default 10000 ms). */
  headersTimeoutMs?: number;
  /** A request's body must arrive within this after its headers (default 30000 ms; 0 = only timeoutMs). */
  bodyTimeoutMs?: number;
  /** Open connections at once; more are closed on accept (default 256). */
  maxConnections?: number;
  /** After a 429/503 refusal, the client's connection is not read for this long (default 250 ms; 0 = off; at most 4000, below Node's 5 s keep-alive timeout). */
  refusalHoldMs?: number;
  /** A streaming (SSE) client that reads nothing for this long is disconnected (default 30000 ms). */
  sseStallMs?: number;
  /** JSON log lines (src/util/log.ts; one per request and per lifecycle event) are written here; absent = silent. */
  logStream?: NodeJS.WritableStream;
  /** Least severe level written (default info). */
  logLevel?: LogLevel;
  ffmpegPath?: string;
}

export interface ResolvedServerOptions {
  disposeCaptioner: boolean;
  disposeLlm: boolean;
  llmMaxTokens: number;
  defaultMaxTokens?: number;
  apiKeys: readonly string[];
  ui: boolean;
  mediaRoots: readonly string[];
  maxUploadBytes: number;
  maxAudioSeconds: number;
  concurrency: number;
  maxQueue: number;
  timeoutMs: number;
  allowRemoteUrls: boolean;
  shutdownGraceMs: number;
  maxBufferedBytes: number;
  maxConcurrentDecodes: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  maxConnections: number;
  refusalHoldMs: number;
  sseStallMs: number;
  logStream?: NodeJS.WritableStream;
  logLevel: LogLevel;
  ffmpegPath?: string;
}

export const SERVER_DEFAULTS = {
  maxUploadBytes: 25 * 1024 * 1024,
  maxAudioSeconds: 600,
  concurrency: 1,
  maxQueue: 16,
  timeoutMs: 300_000,
  shutdownGraceMs: 10_000,
  llmMaxTokens: 1024,
  maxConcurrentDecodes: 2,
  headersTimeoutMs: 10_000,
  bodyTimeoutMs: 30_000,
  maxConnections: 256,
  refusalHoldMs: 250,
  sseStallMs: 30_000,
} as const;

/** Ranges every numeric option must lie in (the CLI checks its flags against the same ranges). */
export const OPTION_RANGES = {
  maxUploadBytes: { integer: true, min: 1, max: 4 * 1024 ** 3 },
  maxAudioSeconds: { min: 0.01, max: 24 * 3600 },
  concurrency: { integer: true, min: 1, max: 1024 },
  maxQueue: { integer: true, min: 0, max: 100_000 },
  timeoutMs: { integer: true, min: 0, max: MAX_TIMER_MS },
  shutdownGraceMs: { integer: true, min: 0, max: MAX_TIMER_MS },
  maxBufferedBytes: { integer: true, min: 1, max: 64 * 1024 ** 3 },
  maxConcurrentDecodes: { integer: true, min: 1, max: 256 },
  headersTimeoutMs: { integer: true, min: 1, max: MAX_TIMER_MS },
  bodyTimeoutMs: { integer: true, min: 0, max: MAX_TIMER_MS },
  maxConnections: { integer: true, min: 1, max: 1_000_000 },
  refusalHoldMs: { integer: true, min: 0, max: 4000 },
  sseStallMs: { integer: true, min: 1, max: MAX_TIMER_MS },
  llmMaxTokens: LLM_LIMITS.maxTokens,
  defaultMaxTokens: GENERATION_LIMITS.maxNewTokens,
} as const satisfies Record<string, NumberRange>;

type RangedOption = keyof typeof OPTION_RANGES;

function ranged(key: RangedOption, value: number | undefined, fallback: number): number {
  return value === undefined ? fallback : checkRange(`options.${key}`, value, OPTION_RANGES[key]);
}

/** Each media root must be an existing directory (checked once, at start-up). */
function checkRoot(root: string): void {
  let isDir: boolean;
  try {
    isDir = statSync(root).isDirectory();
  } catch (e) {
    throw new OmnicapError('INVALID_ARGUMENT', `media root ${JSON.stringify(root)} does not exist`, { cause: e, details: { parameter: 'mediaRoots' } });
  }
  if (!isDir) throw new OmnicapError('INVALID_ARGUMENT', `media root ${JSON.stringify(root)} is not a directory`, { details: { parameter: 'mediaRoots' } });
}

/** JSON limit: base64 of the largest upload plus room for messages/options. */
export function jsonLimitBytes(maxUploadBytes: number): number {
  return Math.ceil((maxUploadBytes * 4) / 3) + 1024 * 1024;
}

export function resolveServerOptions(o: ServerOptions): ResolvedServerOptions {
  if (o === null || typeof o !== 'object') throw invalidParameterError('options', 'an object', o);
  const c: unknown = o.captioner;
  if (typeof c !== 'function' && (typeof c !== 'object' || c === null || typeof (c as Captioner).captionStream !== 'function')) {
    throw invalidParameterError('options.captioner', 'a Captioner or a function returning Promise<Captioner>', c);
  }
  const llm: unknown = o.llm;
  if (llm !== undefined && typeof llm !== 'function' && (typeof llm !== 'object' || llm === null || typeof (llm as ChatModel).chat !== 'function')) {
    throw invalidParameterError('options.llm', 'a ChatModel or a function returning Promise<ChatModel>', llm);
  }
  const keys = o.apiKeys ?? [];
  for (const k of keys) if (typeof k !== 'string' || k.length === 0) throw invalidParameterError('options.apiKeys[]', 'a non-empty string', k);
  const roots = o.mediaRoots ?? [];
  for (const r of roots) if (typeof r !== 'string' || r.length === 0) throw invalidParameterError('options.mediaRoots[]', 'a non-empty directory path', r);
  for (const r of roots) checkRoot(r);
  if (o.ui !== undefined && typeof o.ui !== 'boolean') throw invalidParameterError('options.ui', 'a boolean', o.ui);
  if (o.logLevel !== undefined && !isLogLevel(o.logLevel)) throw invalidParameterError('options.logLevel', `one of ${LOG_LEVELS.join(', ')}`, o.logLevel);
  const maxUploadBytes = ranged('maxUploadBytes', o.maxUploadBytes, SERVER_DEFAULTS.maxUploadBytes);
  const minBuffered = jsonLimitBytes(maxUploadBytes);
  const maxBufferedBytes = ranged('maxBufferedBytes', o.maxBufferedBytes, Math.max(4 * maxUploadBytes, minBuffered));
  if (maxBufferedBytes < minBuffered) {
    throw invalidParameterError('options.maxBufferedBytes', `at least one largest request body (${minBuffered} bytes for maxUploadBytes ${maxUploadBytes})`, maxBufferedBytes);
  }
  return {
    disposeCaptioner: o.disposeCaptioner ?? typeof c === 'function',
    disposeLlm: o.disposeLlm ?? typeof llm === 'function',
    llmMaxTokens: ranged('llmMaxTokens', o.llmMaxTokens, SERVER_DEFAULTS.llmMaxTokens),
    defaultMaxTokens: o.defaultMaxTokens === undefined ? undefined : ranged('defaultMaxTokens', o.defaultMaxTokens, 1),
    apiKeys: [...keys],
    ui: o.ui ?? true,
    mediaRoots: [...roots],
    maxUploadBytes,
    maxAudioSeconds: ranged('maxAudioSeconds', o.maxAudioSeconds, SERVER_DEFAULTS.maxAudioSeconds),
    concurrency: ranged('concurrency', o.concurrency, SERVER_DEFAULTS.concurrency),
    maxQueue: ranged('maxQueue', o.maxQueue, SERVER_DEFAULTS.maxQueue),
    timeoutMs: ranged('timeoutMs', o.timeoutMs, SERVER_DEFAULTS.timeoutMs),
    allowRemoteUrls: o.allowRemoteUrls ?? false,
    shutdownGraceMs: ranged('shutdownGraceMs', o.shutdownGraceMs, SERVER_DEFAULTS.shutdownGraceMs),
    maxBufferedBytes,
    maxConcurrentDecodes: ranged('maxConcurrentDecodes', o.maxConcurrentDecodes, SERVER_DEFAULTS.maxConcurrentDecodes),
    headersTimeoutMs: ranged('headersTimeoutMs', o.headersTimeoutMs, SERVER_DEFAULTS.headersTimeoutMs),
    bodyTimeoutMs: ranged('bodyTimeoutMs', o.bodyTimeoutMs, SERVER_DEFAULTS.bodyTimeoutMs),
    maxConnections: ranged('maxConnections', o.maxConnections, SERVER_DEFAULTS.maxConnections),
    refusalHoldMs: ranged('refusalHoldMs', o.refusalHoldMs, SERVER_DEFAULTS.refusalHoldMs),
    sseStallMs: ranged('sseStallMs', o.sseStallMs, SERVER_DEFAULTS.sseStallMs),
    logStream: o.logStream,
    logLevel: o.logLevel ?? 'info',
    ffmpegPath: o.ffmpegPath,
  };
}
