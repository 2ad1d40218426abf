/**
 * The detective run a command line describes (shared by `detect` in-process and `detect --queue`):
 * per-clip options, the LLM and the observer set, validated the same way for both.
 */
import { OmnicapError } from '../errors';
import type { OutputFormat } from '../detective/batch';
import type { LlmSpec, ObserverSpec, RunOptions } from '../detective/queue/manifest';
import { DEFAULT_LOCAL_MODEL_ID } from '../llm/local';
import { numberFlag } from './args';

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
  'audio-lm-url'?: string;
  'audio-lm-model'?: string;
  captioner?: string;
  observers?: string;
}

export const BASE_OBSERVERS = ['signal', 'vad', 'asr', 'ocr', 'video'] as const;

export function runOptionsFrom(v: RunFlags, promptVersion: string): RunOptions {
  const rounds = numberFlag('rounds', v.rounds, 10, { min: 0, max: 100, integer: true });
  const seed = numberFlag('seed', v.seed, 0, { min: 0, integer: true });
  const synthesis = v.synthesis ?? 'llm';
  if (synthesis !== 'llm' && synthesis !== 'template') throw new OmnicapError('INVALID_ARGUMENT', `--synthesis accepts llm or template but received ${JSON.stringify(synthesis)}`);
  const format = (v.format ?? 'omnicap') as OutputFormat;
  if (format !== 'omnicap' && format !== 'reference') throw new OmnicapError('INVALID_ARGUMENT', `--format expects omnicap or reference but received ${JSON.stringify(format)}`);
  const maxCaptionTokens = numberFlag('max-caption-tokens', v['max-caption-tokens'], 512, { min: 1, max: 8192, integer: true });
  return { rounds, seed, synthesis, format, maxCaptionTokens, promptVersion: v['prompt-version'] ?? promptVersion, allowRemoteUrls: v['allow-remote-urls'] === true };
}

export function llmSpecFrom(v: RunFlags): LlmSpec {
  if (v['llm-url'] !== undefined) {
    if (v.llm !== undefined) throw new OmnicapError('INVALID_ARGUMENT', '--llm and --llm-url are exclusive');
    if (v['llm-model'] === undefined) throw new OmnicapError('INVALID_ARGUMENT', '--llm-url needs --llm-model');
    if (!/^https?:\/\//.test(v['llm-url'])) throw new OmnicapError('INVALID_ARGUMENT', `--llm-url must be an http(s) URL but received ${JSON.stringify(v['llm-url'])}`);
    return { kind: 'openai', url: v['llm-url'], model: v['llm-model'] };
  }
  if (v.llm !== undefined && v.llm !== 'local') throw new OmnicapError('INVALID_ARGUMENT', `--llm accepts only "local" but received ${JSON.stringify(v.llm)}`);
  return { kind: 'local', model: DEFAULT_LOCAL_MODEL_ID };
}

/** The observer set: --observers (a comma list) or signal, vad, asr, ocr, video; + captioner / audio_lm when configured. */
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
