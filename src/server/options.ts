/** Server factory options, their defaults and validation (no global config: one object per server). */
import { invalidParameterError } from '../errors';
import type { Captioner } from '../engine/types';
import type { ChatModel } from '../llm/types';
import type { ObserverRegistry } from './observers';

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
  /** Bearer API keys; empty/absent = no auth. Applies to /v1/*. */
  apiKeys?: readonly string[];
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
  /** One JSON line per request is written here; absent = silent. */
  logStream?: NodeJS.WritableStream;
  ffmpegPath?: string;
}

export interface ResolvedServerOptions {
  disposeCaptioner: boolean;
  disposeLlm: boolean;
  llmMaxTokens: number;
  defaultMaxTokens?: number;
  apiKeys: readonly string[];
  mediaRoots: readonly string[];
  maxUploadBytes: number;
  maxAudioSeconds: number;
  concurrency: number;
  maxQueue: number;
  timeoutMs: number;
  allowRemoteUrls: boolean;
  shutdownGraceMs: number;
  logStream?: NodeJS.WritableStream;
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
} as const;

function int(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) throw invalidParameterError(name, `an integer >= ${min}`, value);
  return value;
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw invalidParameterError(name, 'a finite number > 0', value);
  return value;
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
  return {
    disposeCaptioner: o.disposeCaptioner ?? typeof c === 'function',
    disposeLlm: o.disposeLlm ?? typeof llm === 'function',
    llmMaxTokens: int('options.llmMaxTokens', o.llmMaxTokens, SERVER_DEFAULTS.llmMaxTokens, 1),
    defaultMaxTokens: o.defaultMaxTokens === undefined ? undefined : int('options.defaultMaxTokens', o.defaultMaxTokens, 1, 1),
    apiKeys: [...keys],
    mediaRoots: [...roots],
    maxUploadBytes: int('options.maxUploadBytes', o.maxUploadBytes, SERVER_DEFAULTS.maxUploadBytes, 1),
    maxAudioSeconds: positive('options.maxAudioSeconds', o.maxAudioSeconds, SERVER_DEFAULTS.maxAudioSeconds),
    concurrency: int('options.concurrency', o.concurrency, SERVER_DEFAULTS.concurrency, 1),
    maxQueue: int('options.maxQueue', o.maxQueue, SERVER_DEFAULTS.maxQueue, 0),
    timeoutMs: int('options.timeoutMs', o.timeoutMs, SERVER_DEFAULTS.timeoutMs, 0),
    allowRemoteUrls: o.allowRemoteUrls ?? false,
    shutdownGraceMs: int('options.shutdownGraceMs', o.shutdownGraceMs, SERVER_DEFAULTS.shutdownGraceMs, 0),
    logStream: o.logStream,
    ffmpegPath: o.ffmpegPath,
  };
}
