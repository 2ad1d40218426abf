/**
 * The per-server runtime shared by the routes (no module-level state): options, the queue, metrics,
 * logger, media resolution and the model. Generation always goes through {@link captionChunks},
 * which holds a queue slot for exactly as long as the engine runs.
 */
import { OmnicapError } from '../errors';
import type { CaptionChunk, CaptionResult, Captioner } from '../engine/types';
import type { Admission } from './admission';
import type { Loadable } from './loadable';
import { contextOf } from './context';
import type { InfraFailures } from '../util/failures';
import type { Logger } from '../util/log';
import type { MediaDeps } from './media/source';
import type { ServerMetrics } from './metrics';
import type { ObserverRegistry } from '../observers';
import type { ResolvedServerOptions } from './options';
import { checkWindowCount, type GenerationParams } from './params';
import type { Scheduler } from './scheduler';
import type { TextLlm } from './text-llm';
import type { CaptionResponseBody } from '../schema';

export interface ServerRuntime {
  readonly options: ResolvedServerOptions;
  readonly scheduler: Scheduler;
  readonly admission: Admission;
  readonly metrics: ServerMetrics;
  readonly logger: Logger;
  /** Infrastructure failures the server goes on without: counted on /metrics, logged once per interval. */
  readonly failures: InfraFailures;
  readonly media: MediaDeps;
  readonly observers: ObserverRegistry;
  /** The text LLM for text-only chat completions, when the server has one. */
  readonly llm?: TextLlm;
  /** Unix seconds the server started (the `created` of /v1/models entries). */
  readonly startedAt: number;
  /** The captioner model: loading, ready, failed or disposed. */
  readonly model: Loadable<Captioner>;
  /** The loaded captioner, or NOT_READY (503). */
  captioner(): Captioner;
}

/**
 * Run `job` holding a run slot: the request's admission reservation (src/server/admission.ts), or
 * for a caller outside a request a reservation of its own (QUEUE_FULL when full). `audioSeconds`
 * feeds the queued-work estimate behind Retry-After.
 */
export async function withRunSlot<T>(rt: ServerRuntime, signal: AbortSignal, audioSeconds: number | undefined, job: () => Promise<T>): Promise<T> {
  const own = contextOf(signal)?.reservation;
  const reservation = own ?? rt.scheduler.reserve();
  if (audioSeconds !== undefined) reservation.audioSeconds = audioSeconds;
  let completed = false;
  try {
    await reservation.run(signal);
    const out = await job();
    completed = true;
    return out;
  } finally {
    reservation.release(completed);
  }
}

/**
 * Caption chunks for one request: refuses too many windows (INVALID_ARGUMENT) before any model
 * work, waits for a run slot (abortable), runs the engine with the request's signal, counts
 * tokens, releases the slot when the stream ends, fails, or the consumer stops iterating.
 */
export async function* captionChunks(rt: ServerRuntime, samples: Float32Array, params: GenerationParams, signal: AbortSignal): AsyncGenerator<CaptionChunk, void, undefined> {
  const captioner = rt.captioner();
  checkWindowCount(samples.length, params);
  const reservation = contextOf(signal)?.reservation ?? rt.scheduler.reserve();
  reservation.audioSeconds = samples.length / 16000;
  let completed = false;
  try {
    await reservation.run(signal);
    for await (const chunk of captioner.captionStream({ samples, sampleRate: 16000 }, { ...params, signal })) {
      if (chunk.type === 'token') rt.metrics.generatedTokens.inc();
      else if (chunk.type === 'done') {
        rt.metrics.recordGeneration(chunk.result.completionTokens, chunk.result.timings.decodeMs);
        completed = true;
      }
      yield chunk;
    }
  } finally {
    reservation.release(completed);
  }
}

/** Non-streaming caption through the queue. */
export async function captionOnce(rt: ServerRuntime, samples: Float32Array, params: GenerationParams, signal: AbortSignal): Promise<CaptionResult> {
  for await (const chunk of captionChunks(rt, samples, params, signal)) {
    if (chunk.type === 'done') return chunk.result;
  }
  throw new OmnicapError('INTERNAL', 'caption stream ended without a result');
}

/** Wire form of a caption result (snake_case). */
export function captionResultJson(r: CaptionResult, requestId: string): CaptionResponseBody {
  return {
    caption: r.caption,
    model: r.model,
    audio_seconds: r.audioSeconds,
    usage: { prompt_tokens: r.promptTokens, completion_tokens: r.completionTokens, total_tokens: r.promptTokens + r.completionTokens },
    timings: {
      features_ms: r.timings.featuresMs,
      encoder_ms: r.timings.encoderMs,
      prefill_ms: r.timings.prefillMs,
      decode_ms: r.timings.decodeMs,
      total_ms: r.timings.totalMs,
    },
    windows: r.windows,
    finish_reason: r.finishReason,
    request_id: requestId,
  };
}

/**
 * Text the engine put into the final caption but never streamed as a token (the tokenizer's
 * flushed tail, e.g. an incomplete UTF-8 sequence at the end), so streamed text adds up to the
 * caption. Only for single-window results (multi-window captions are stitched, not concatenated).
 */
export function unstreamedTail(streamed: string, result: CaptionResult): string {
  if (result.windows !== 1) return '';
  const s = streamed.trim();
  const c = result.caption;
  return c.length > s.length && c.startsWith(s) ? c.slice(s.length) : '';
}
