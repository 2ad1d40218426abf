/**
 * Messages between the main thread ({@link WorkerCaptioner}) and the engine worker
 * (worker-host.ts). Generations are pull-based: the worker advances a generation's stream by one
 * chunk per `next` message, exactly like an in-thread async iterator, so back-pressure (a slow
 * SSE consumer, batched-row parking) behaves as before. Errors cross as {code, message, details}.
 */
import { ERROR_CODES, OmnicapError, type ErrorCode } from '../errors';
import type { BatcherStats } from './batcher';
import type { LoadCaptionerOptions } from './load-options';
import type { KvCacheInfo } from './kv-path';
import type { ModelManifest } from './manifest';
import type { ResolvedProvider } from './provider';
import type { CaptionChunk, CaptionOptions } from './types';

export interface SerializedError {
  code: ErrorCode;
  message: string;
  status?: number;
  details?: Record<string, unknown>;
}

/** What the worker needs to load the model (workerData): the load options that cross threads. */
export interface WorkerLoadRequest extends Omit<LoadCaptionerOptions, 'runtime' | 'signal'> {
  modelDir: string;
}

/** The worker's workerData: the load request (plus, from TypeScript sources, the loader's paths). */
export interface WorkerData {
  request: WorkerLoadRequest;
  bootstrap?: { entry: string; typescript: string };
}

export type WorkerCaptionOptions = Omit<CaptionOptions, 'signal'>;

export type ToWorker =
  | { type: 'start'; id: number; samples: Float32Array; options: WorkerCaptionOptions }
  | { type: 'next'; id: number }
  | { type: 'abort'; id: number; reason: SerializedError }
  | { type: 'return'; id: number }
  | { type: 'status'; id: number }
  | { type: 'dispose' };

export interface WorkerStatus {
  /** Generations whose stream is open in the worker. */
  generations: number;
}

export type FromWorker =
  | { type: 'loaded'; modelId: string; provider: ResolvedProvider; manifest: ModelManifest; kvCache: KvCacheInfo }
  | { type: 'load-failed'; error: SerializedError }
  | { type: 'chunk'; id: number; chunk: CaptionChunk; batchStats?: BatcherStats }
  | { type: 'end'; id: number; batchStats?: BatcherStats }
  | { type: 'failed'; id: number; error: SerializedError }
  | { type: 'status'; id: number; status: WorkerStatus }
  | { type: 'disposed' };

export function serializeError(e: unknown): SerializedError {
  if (e instanceof OmnicapError) return { ...e.toJSON(), status: e.status };
  // an OmnicapError from another module instance (e.g. the worker's copy of src/errors)
  if (typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'string' && (e as { code: string }).code in ERROR_CODES) {
    const x = e as { code: ErrorCode; message?: unknown; status?: unknown; details?: unknown };
    return {
      code: x.code,
      message: String(x.message ?? x.code),
      ...(typeof x.status === 'number' ? { status: x.status } : {}),
      ...(typeof x.details === 'object' && x.details !== null ? { details: x.details as Record<string, unknown> } : {}),
    };
  }
  return { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

export function deserializeError(s: SerializedError): OmnicapError {
  return new OmnicapError(s.code, s.message, { ...(s.details !== undefined ? { details: s.details } : {}), ...(s.status !== undefined ? { status: s.status } : {}) });
}
