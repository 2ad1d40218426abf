/**
 * The detective run a command line describes (shared by `detect` in-process and `detect --queue`):
 * per-clip options, the LLM and the observer set, validated the same way for both.
 */
import { OmnicapError } from '../errors';
import type { OutputFormat } from '../detective';
import type { LlmSpec, ObserverSpec, RunOptions, RunPolicy } from '../detective/queue';
import { DEFAULT_LOCAL_MODEL_ID, llmChoiceFromFlags, type LlmChoice, type LlmFlags } from '../llm';
import { LLM_LIMITS } from '../schema/limits';
import { numberFlag, type ParsedCommandArgs } from './args';
import { VLM_OPTIONS, vlmSpecFrom, type VlmFlags } from './vlm-flags';

export interface RunFlags extends VlmFlags {
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
  'llm-state'?: string;
  'audio-lm-url'?: string;
  'audio-lm-model'?: string;
  captioner?: string;
  observers?: string;
}

/** The flags of a Detective run: `omnicap detect` and `omnicap serve --detective` share them. */
export const DETECTIVE_OPTIONS = {
  workers: { type: 'string' },
  rounds: { type: 'string' },
  seed: { type: 'string' },
  llm: { type: 'string' },
  'llm-threads': { type: 'string' },
  'llm-state': { type: 'string' },
  'llm-url': { type: 'string' },
  'llm-model': { type: 'string' },
  'llm-api-key': { type: 'string' },
  'audio-lm-url': { type: 'string' },
  'audio-lm-model': { type: 'string' },
  ...VLM_OPTIONS,
  captioner: { type: 'string' },
  cache: { type: 'string' },
  'max-caption-tokens': { type: 'string' },
  synthesis: { type: 'string' },
  'prompt-version': { type: 'string' },
  format: { type: 'string' },
  'allow-remote-urls': { type: 'boolean' },
  observers: { type: 'string' },
} as const;

/** The queue flags of a Detective run on BullMQ (`detect --queue`, `serve --detective --queue`). */
export const QUEUE_RUN_OPTIONS = {
  queue: { type: 'string' },
  'queue-name': { type: 'string' },
  attempts: { type: 'string' },
  'backoff-ms': { type: 'string' },
  'job-timeout': { type: 'string' },
} as const;

/** `--help` lines of {@link DETECTIVE_OPTIONS} (but --allow-remote-urls and the --vlm-* flags, which each command describes). */
export const DETECTIVE_HELP = `  --workers N           clips annotated at once (default 1)
  --rounds N            decision rounds per clip, spent on observers that answer questions (e.g.
                        audio_lm, vlm; default 10); fixed-report observers (signal, vad,
                        sound_events, asr, ocr, video, captioner) are gathered up front,
                        concurrently, without a round
  --seed N              seed for every LLM call (default 0)
  --llm local|FILE.gguf the embedded local GGUF model via node-llama-cpp (default), or any local
                        GGUF instruct model, run with the chat template in its metadata (with
                        --queue every worker passes the same file name with worker --llm)
  --llm-threads N       CPU threads of the local model (default: every core; observers and the
                        model share the cores through one gate, never oversubscribing them)
  --llm-state DIR|off   where the local model saves the evaluated synthesis instructions, so that
                        only the first process on a machine evaluates them (default
                        $XDG_CACHE_HOME/omnicap/llm-state or ~/.cache/omnicap/llm-state; a private
                        directory: one other users can write is refused); off: nothing saved
  --llm-url URL         an OpenAI-compatible endpoint for the detective LLM (with --llm-model)
  --llm-model NAME      model name at --llm-url
  --llm-api-key KEY     bearer token (default $OMNICAP_LLM_API_KEY)
  --audio-lm-url URL    add an "audio_lm" observer: OpenAI-compatible audio chat model (input_audio)
  --audio-lm-model NAME model name at --audio-lm-url
  --captioner DIR       add the "captioner" observer with this model directory
  --max-caption-tokens N  hard token limit of the final caption call (default: the fact sheet's
                        tokens x 1.25 + 64, at least 512, at most 2048)
  --synthesis MODE      llm (default: the detective writes the caption, checked, template fallback)
                        or template (deterministic caption from the observations, no LLM call)
  --cache DIR           observer-answer cache (detect: default <output>.cache; serve: default
                        <data-dir>/cache); one that cannot be written is an error at start
                        (CACHE_UNAVAILABLE), one that fails later is skipped, logged and counted
  --prompt-version V    prompt files version (default v5; v2 has no revision step)
  --format F            omnicap (default) or reference (the reference Omni-Detective output shape)
  --observers LIST      observers to offer, comma-separated (default signal,vad,sound_events,asr,ocr,
                        video + captioner, audio_lm, vlm when configured)
`;

/** `--help` lines of {@link QUEUE_RUN_OPTIONS}. */
export const QUEUE_RUN_HELP = `  --queue URL           redis://[user:password@]host:port/db: the clips become BullMQ jobs, run by
                        'omnicap worker --queue URL' processes (docs/scaling.md)
  --queue-name NAME     BullMQ queue name (default omnicap)
  --attempts N          attempts per clip for infrastructure failures (default 3)
  --backoff-ms MS       first retry delay, doubled per attempt (default 5000)
  --job-timeout S       per-clip timeout in seconds, then retried (default 1800; 0 = none)
`;

/** The flags of `omnicap detect` (in-process and --queue). */
export const DETECT_OPTIONS = {
  input: { type: 'string' },
  output: { type: 'string' },
  ...DETECTIVE_OPTIONS,
  ...QUEUE_RUN_OPTIONS,
  'no-progress': { type: 'boolean' },
  'log-level': { type: 'string' },
  'enqueue-only': { type: 'boolean' },
  'retry-failed': { type: 'boolean' },
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
  const maxCaptionTokens = v['max-caption-tokens'] === undefined ? undefined : numberFlag('max-caption-tokens', v['max-caption-tokens'], 512, LLM_LIMITS.maxTokens);
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

/** The observer set: --observers (a comma list) or signal, vad, sound_events, asr, ocr, video; + captioner / audio_lm / vlm when configured. */
export function observerSpecFrom(v: RunFlags): ObserverSpec {
  if ((v['audio-lm-url'] === undefined) !== (v['audio-lm-model'] === undefined)) throw new OmnicapError('INVALID_ARGUMENT', '--audio-lm-url and --audio-lm-model go together');
  const vlm = vlmSpecFrom(v);
  const configured: string[] = [...BASE_OBSERVERS];
  if (v.captioner !== undefined) configured.push('captioner');
  if (v['audio-lm-url'] !== undefined) configured.push('audio_lm');
  if (vlm !== undefined) configured.push('vlm');
  let names = configured;
  if (v.observers !== undefined) {
    names = v.observers.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const unknown = names.filter((n) => !configured.includes(n));
    if (names.length === 0) throw new OmnicapError('INVALID_ARGUMENT', '--observers needs at least one observer name');
    if (unknown.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `--observers: ${unknown.map((u) => JSON.stringify(u)).join(', ')} not available; choose from ${configured.join(', ')} (captioner needs --captioner, audio_lm needs --audio-lm-url, vlm needs --vlm-url)`);
    names = configured.filter((n) => names.includes(n));
  }
  const spec: ObserverSpec = { names };
  if (v.captioner !== undefined) spec.captioner = v.captioner;
  if (v['audio-lm-url'] !== undefined && v['audio-lm-model'] !== undefined) spec.audioLm = { url: v['audio-lm-url'], model: v['audio-lm-model'] };
  if (vlm !== undefined && names.includes('vlm')) spec.vlm = vlm;
  return spec;
}

/** How queue jobs are run (--attempts, --backoff-ms, --job-timeout). */
export function queuePolicyFrom(v: { attempts?: string; 'backoff-ms'?: string; 'job-timeout'?: string }): RunPolicy {
  const attempts = numberFlag('attempts', v.attempts, 3, { min: 1, max: 100, integer: true });
  const backoffMs = numberFlag('backoff-ms', v['backoff-ms'], 5000, { min: 0, max: 3_600_000, integer: true });
  const jobTimeoutMs = numberFlag('job-timeout', v['job-timeout'], 1800, { min: 0, max: 7 * 24 * 3600 }) * 1000;
  return { attempts, backoffMs, jobTimeoutMs };
}

/** --queue-name (default omnicap): non-empty, no ":". */
export function queueNameFrom(v: { 'queue-name'?: string }): string {
  const queueName = v['queue-name'] ?? 'omnicap';
  if (queueName === '' || queueName.includes(':')) throw new OmnicapError('INVALID_ARGUMENT', `--queue-name must be non-empty and without ":" but is ${JSON.stringify(queueName)}`);
  return queueName;
}

/** `serve` without --detective: the Detective's flags mean nothing (--llm, --llm-threads, --allow-remote-urls and the --vlm-* flags are serve's own too). */
export function refuseDetectiveFlags(v: Record<string, unknown>): void {
  const own = new Set(['llm', 'llm-threads', 'allow-remote-urls', ...Object.keys(VLM_OPTIONS)]);
  for (const f of [...Object.keys(DETECTIVE_OPTIONS), ...Object.keys(QUEUE_RUN_OPTIONS), 'data-dir', 'max-jobs']) {
    if (!own.has(f) && v[f] !== undefined) throw new OmnicapError('INVALID_ARGUMENT', `--${f} needs --detective`);
  }
}
