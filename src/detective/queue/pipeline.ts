/**
 * What a worker builds from the run manifest: the detective LLM and the observer toolbox, so every
 * machine runs the pipeline the producer asked for. Heavy modules load only here, on use.
 */
import { availableParallelism } from 'node:os';
import { OmnicapError } from '../../errors';
import type { ChatModel } from '../../llm/types';
import type { ObservationStore } from '../cache';
import type { CpuGate } from '../cpu-gate';
import { defaultObservers } from '../observers';
import { createToolbox, type DetectiveToolbox } from '../toolbox';
import type { LlmSpec, ObserverSpec } from './manifest';

/** Worker-side settings of the LLM that are not part of the run (where and how it runs). */
export interface LlmOverrides {
  /** Another URL for the same model (e.g. an endpoint close to this worker). */
  url?: string;
  apiKey?: string;
  /** CPU threads of the local model. */
  threads?: number;
}

export const OBSERVER_NAMES = ['signal', 'vad', 'asr', 'ocr', 'video', 'captioner', 'audio_lm'] as const;

export async function createRunLlm(spec: LlmSpec, o: LlmOverrides, concurrency: number): Promise<ChatModel> {
  if (spec.kind === 'openai') {
    const { OpenAIChatModel } = await import('../../llm/openai');
    return new OpenAIChatModel({ baseURL: o.url ?? spec.url, model: spec.model, apiKey: o.apiKey });
  }
  if (o.url !== undefined) throw new OmnicapError('INVALID_ARGUMENT', `the run uses the embedded local model ${spec.model}; --llm-url cannot replace it`);
  const { LocalChatModel } = await import('../../llm/local');
  const llm = await LocalChatModel.load({ threads: o.threads ?? availableParallelism(), sequences: Math.min(concurrency, 8) });
  if (llm.id !== spec.model) {
    await llm.dispose();
    throw new OmnicapError('MODEL_INVALID', `the run needs the local model ${spec.model} but this machine has ${llm.id}`);
  }
  return llm;
}

export function createRunToolbox(spec: ObserverSpec, cache: ObservationStore | undefined, cpu?: CpuGate): DetectiveToolbox {
  const all = defaultObservers({
    captionerModelDir: spec.captioner,
    audioLm: spec.audioLm !== undefined ? { baseURL: spec.audioLm.url, model: spec.audioLm.model } : undefined,
  });
  const chosen = all.filter((o) => spec.names.includes(o.name));
  const missing = spec.names.filter((n) => !chosen.some((o) => o.name === n));
  if (missing.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `the run asks for observers this worker cannot build: ${missing.join(', ')}`);
  return createToolbox({ observers: chosen, cache, cpu });
}
