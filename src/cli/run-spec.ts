/**
 * The detective run a command line describes (shared by `detect` in-process and `detect --queue`):
 * per-clip options, the LLM and the observer set, validated the same way for both.
 */
import { OmnicapError } from '../errors';
import type { OutputFormat } from '../detective';
import type { LlmSpec, ObserverSpec, RunOptions } from '../detective/queue';
import { DEFAULT_LOCAL_MODEL_ID, llmChoiceFromFlags, type LlmChoice, type LlmFlags } from '../llm';
import { LLM_LIMITS } from '../schema/limits';
import { numberFlag, type ParsedCommandArgs } from './args';

export interface RunFlags {
  rounds?: string;
  seed?: string;
  synthesis?: string;
  format?: string;
  'max-caption-tokens'?: string;
  'prompt-version'?: string;
  'allow-remote-urls'?: boolean;
  llm?: string;
  'llm-url'?: string;
  'llm-model'?: string;
  'llm-api-key'?: string;
  'llm-threads'?: string;
  'audio-lm-url'?: string;
  'audio-lm-model'?: string;
  captioner?: string;
  observers?: string;
}

/** The flags of `omnicap detect` (in-process and --queue). */
export const DETECT_OPTIONS = {
  input: { type: 'string' },
  output: { type: 'string' },
  workers: { type: 'string' },
  rounds: { type: 'string' },
  seed: { type: 'string' },
  llm: { type: 'string' },
  'llm-threads': { type: 'string' },
  'llm-url': { type: 'string' },
  'llm-model': { type: 'string' },
  'llm-api-key': { type: 'string' },
  'audio-lm-url': { type: 'string' },
  'audio-lm-model': { type: 'string' },
  captioner: { type: 'string' },
  cache: { type: 'string' },
  'max-caption-tokens': { type: 'string' },
  synthesis: { type: 'string' },
  'prompt-version': { type: 'string' },
  'no-progress': { type: 'boolean' },
  'log-level': { type: 'string' },
  format: { type: 'string' },
  'allow-remote-urls': { type: 'boolean' },
  observers: { type: 'string' },
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
  'enqueue-only': { type: 'boolean' },
  'retry-failed': { type: 'boolean' },
  attempts: { type: 'string' },
  'backoff-ms': { type: 'string' },
  'job-timeout': { type: 'string' },
  progress: { type: 'string' },
} as const;

export type DetectFlags = ParsedCommandArgs<typeof DETECT_OPTIONS>['values'];

export const BASE_OBSERVERS = ['signal', 'vad', 'sound_events', 'asr', 'ocr', 'video'] as const;

export function runOptionsFrom(v: RunFlags, promptVersion: string): RunOptions {
  const rounds = numberFlag('rounds', v.rounds, 10, { min: 0, max: 100, integer: true });
  const seed = numberFlag('seed', v.seed, 0, LLM_LIMITS.seed);
  const synthesis = v.synthesis ?? 'llm';
  if (synthesis !== 'llm' && synthesis !== 'template') throw new OmnicapError('INVALID_ARGUMENT', `--synthesis accepts llm or template but received ${JSON.stringify(synthesis)}`);
  const format = (v.format ?? 'omnicap') as OutputFormat;
  if (format !== 'omnicap' && format !== 'reference') throw new OmnicapError('INVALID_ARGUMENT', `--format expects omnicap or reference but received ${JSON.stringify(format)}`);
  const maxCaptionTokens = numberFlag('max-caption-tokens', v['max-caption-tokens'], 512, LLM_LIMITS.maxTokens);
  return { rounds, seed, synthesis, format, maxCaptionTokens, promptVersion: v['prompt-version'] ?? promptVersion, allowRemoteUrls: v['allow-remote-urls'] === true };
}

/** The LLM flags of `detect` (the detective LLM) as the factory reads them. */
export function llmFlagsOf(v: RunFlags): LlmFlags {
  return { llm: v.llm, url: v['llm-url'], model: v['llm-model'], apiKey: v['llm-api-key'], threads: v['llm-threads'] };
}

/**
 * The run's LLM: the embedded model, another local GGUF instruct model (`--llm FILE.gguf`, run with
 * its own chat template) or an endpoint (`--llm-url`); the same checks in-process and on the queue.
 */
export function llmChoiceFrom(v: RunFlags): LlmChoice {
  return llmChoiceFromFlags(llmFlagsOf(v), { ggufFiles: true }) ?? { kind: 'local', model: DEFAULT_LOCAL_MODEL_ID };
}

/** What the queue's run manifest records of the LLM: which model (a local file's path is each worker's own). */
export function llmSpecFrom(v: RunFlags): LlmSpec {
  const choice = llmChoiceFrom(v);
  return choice.kind === 'openai' ? choice : { kind: 'local', model: choice.model };
}

/** The observer set: --observers (a comma list) or signal, vad, sound_events, asr, ocr, video; + captioner / audio_lm when configured. */
export function observerSpecFrom(v: RunFlags): ObserverSpec {
  if ((v['audio-lm-url'] === undefined) !== (v['audio-lm-model'] === undefined)) throw new OmnicapError('INVALID_ARGUMENT', '--audio-lm-url and --audio-lm-model go together');
  const configured: string[] = [...BASE_OBSERVERS];
  if (v.captioner !== undefined) configured.push('captioner');
  if (v['audio-lm-url'] !== undefined) configured.push('audio_lm');
  let names = configured;
  if (v.observers !== undefined) {
    names = v.observers.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const unknown = names.filter((n) => !configured.includes(n));
    if (names.length === 0) throw new OmnicapError('INVALID_ARGUMENT', '--observers needs at least one observer name');
    if (unknown.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `--observers: ${unknown.map((u) => JSON.stringify(u)).join(', ')} not available; choose from ${configured.join(', ')} (captioner needs --captioner, audio_lm needs --audio-lm-url)`);
    names = configured.filter((n) => names.includes(n));
  }
  const spec: ObserverSpec = { names };
  if (v.captioner !== undefined) spec.captioner = v.captioner;
  if (v['audio-lm-url'] !== undefined && v['audio-lm-model'] !== undefined) spec.audioLm = { url: v['audio-lm-url'], model: v['audio-lm-model'] };
  return spec;
}
