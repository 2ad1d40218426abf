/**
 * Public types of the captioner engine. The server, the Detective's captioner observer and the
 * CLI all depend on these, never on engine internals.
 */
import type { BatcherStats } from './batcher';
import type { Pcm16k } from '../media/types';
import type { KvCacheInfo } from './kv-path';

export interface SamplingOptions {
  /** 0 means greedy. Default from the model manifest (0.6 for the Captioner). */
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  maxNewTokens?: number;
}

export interface CaptionOptions extends SamplingOptions {
  /** Window length for clips longer than this (seconds; range and default: src/schema/limits.ts). */
  windowSeconds?: number;
  /** Overlap between windows (seconds). */
  overlapSeconds?: number;
  signal?: AbortSignal;
}

export interface CaptionTimings {
  featuresMs: number;
  encoderMs: number;
  prefillMs: number;
  decodeMs: number;
  totalMs: number;
}

export interface CaptionResult {
  caption: string;
  model: string;
  audioSeconds: number;
  promptTokens: number;
  completionTokens: number;
  windows: number;
  finishReason: 'stop' | 'length';
  timings: CaptionTimings;
}

/** Stream chunks: a discriminated union. */
export type CaptionChunk =
  | { type: 'token'; text: string; tokenId: number; window: number }
  | { type: 'window'; index: number; startSeconds: number; endSeconds: number }
  | { type: 'done'; result: CaptionResult };

/** Audio in the engine's input format (defined with the media front-end that produces it). */
export type { Pcm16k };

export interface Captioner {
  readonly modelId: string;
  /** Batched-decoding counters when the captioner batches decode steps (engine option `batch`). */
  readonly batchStats?: Readonly<BatcherStats>;
  /** Where the decoder's KV cache lives between steps, and why (engine kv option). */
  readonly kvCache?: Readonly<KvCacheInfo>;
  caption(audio: Pcm16k, options?: CaptionOptions): Promise<CaptionResult>;
  captionStream(audio: Pcm16k, options?: CaptionOptions): AsyncIterable<CaptionChunk>;
  dispose(): Promise<void>;
}
