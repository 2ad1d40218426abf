/**
 * What a worker builds from the run manifest: the detective LLM and the observer toolbox, so every
 * machine runs the pipeline the producer asked for. Models load here, when the worker starts.
 */
import { availableParallelism } from 'node:os';
import { OmnicapError } from '../../errors';
import { createLlm, DEFAULT_LOCAL_MODEL_ID, ggufModelId, type ChatModel, type LlmChoice } from '../../llm';
import type { InfraFailures } from '../../util/failures';
import type { ObservationStore } from '../cache';
import type { CpuGate } from '../cpu-gate';
import { defaultObservers, type VlmOptions } from '../observers';
import { createToolbox, type DetectiveToolbox } from '../toolbox';
import type { LlmSpec, ObserverSpec, VlmSpec } from './manifest';

/** Worker-side settings of the LLM that are not part of the run (where and how it runs). */
export interface LlmOverrides {
  /** Another URL for the same model (e.g. an endpoint close to this worker). */
  url?: string;
  apiKey?: string;
  /** CPU threads of the local model. */
  threads?: number;
  /** This machine's copy of the run's local GGUF model (its file name must be the run's model id). */
  modelPath?: string;
  /** Saved-state directory of the local model (none when undefined). */
  stateDir?: string;
}

export const OBSERVER_NAMES = ['signal', 'vad', 'sound_events', 'asr', 'ocr', 'video', 'captioner', 'audio_lm', 'vlm'] as const;

/** Worker-side settings of the run's vision model: another URL for it, its key; a model or video mode given here must be the run's. */
export interface VlmOverrides {
  url?: string;
  apiKey?: string;
  model?: string;
  video?: boolean;
}

/** The vision-model observer options of a run on this worker (undefined when the run has none). */
export function runVlmOptions(spec: VlmSpec | undefined, o: VlmOverrides = {}): Omit<VlmOptions, 'analyses'> | undefined {
  if (spec === undefined) {
    if (o.url !== undefined || o.model !== undefined || o.video !== undefined) throw new OmnicapError('INVALID_ARGUMENT', 'the run has no vlm observer; --vlm-url, --vlm-model and --vlm-video do not apply');
    return undefined;
  }
  if (o.model !== undefined && o.model !== spec.model) throw new OmnicapError('MODEL_INVALID', `the run's vision model is ${spec.model}, not ${o.model}`);
  if (o.video !== undefined && o.video !== spec.video) throw new OmnicapError('INVALID_ARGUMENT', `the run sends the vision model ${spec.video ? 'video (--vlm-video)' : 'frames'}; this worker cannot change that`);
  return { baseURL: o.url ?? spec.url, model: spec.model, video: spec.video, ...(o.apiKey !== undefined ? { apiKey: o.apiKey } : {}) };
}

export async function createRunLlm(spec: LlmSpec, o: LlmOverrides, concurrency: number): Promise<ChatModel> {
  if (spec.kind === 'local') {
    if (o.url !== undefined) throw new OmnicapError('INVALID_ARGUMENT', `the run uses the embedded local model ${spec.model}; --llm-url cannot replace it`);
    const here = o.modelPath !== undefined ? ggufModelId(o.modelPath) : DEFAULT_LOCAL_MODEL_ID;
    if (spec.model !== here) throw new OmnicapError('MODEL_INVALID', `the run needs the local model ${spec.model} but this worker has ${here}${o.modelPath === undefined ? ' (give the model file with --llm FILE.gguf)' : ''}`);
  } else if (o.modelPath !== undefined) throw new OmnicapError('INVALID_ARGUMENT', `the run uses the endpoint model ${spec.model}; --llm FILE.gguf cannot replace it`);
  const choice: LlmChoice = spec.kind === 'openai' ? { ...spec, url: o.url ?? spec.url } : { ...spec, ...(o.modelPath !== undefined ? { modelPath: o.modelPath } : {}) };
  // a local model gets every core unless told otherwise: the CPU gate keeps the observers off them while a call runs
  return createLlm(choice, { apiKey: o.apiKey, threads: o.threads ?? availableParallelism(), sequences: Math.min(concurrency, 8), stateDir: o.stateDir });
}

export function createRunToolbox(spec: ObserverSpec, cache: ObservationStore | undefined, cpu?: CpuGate, failures?: InfraFailures, vlm?: VlmOverrides): DetectiveToolbox {
  const all = defaultObservers({
    captionerModelDir: spec.captioner,
    audioLm: spec.audioLm !== undefined ? { baseURL: spec.audioLm.url, model: spec.audioLm.model } : undefined,
    vlm: runVlmOptions(spec.vlm, vlm),
  });
  const chosen = all.filter((o) => spec.names.includes(o.name));
  const missing = spec.names.filter((n) => !chosen.some((o) => o.name === n));
  if (missing.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `the run asks for observers this worker cannot build: ${missing.join(', ')}`);
  return createToolbox({ observers: chosen, cache, cpu, failures });
}
