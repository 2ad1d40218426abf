/**
 * The run manifest: what a queue's jobs were made from (input digest, prompts, models, observers,
 * options) and its signature. The producer stores it once per queue; a producer with another
 * signature is refused (QUEUE_RUN_MISMATCH) instead of mixing two runs in one output, and workers
 * build their LLM and toolbox from it, so every machine runs the same pipeline.
 */
import type { OutputFormat } from '../batch';
import type { DetectiveClip, PromptRecord, SynthesisMode } from '../types';
import { sha256 } from '../../util/hash';
import { QueueRunMismatchError } from './errors';

/** Per-clip options of `detectClip` that change the output. */
export interface RunOptions {
  rounds: number;
  seed: number;
  promptVersion: string;
  /** Hard limit of the caption call; undefined: the Detective's own, from the fact sheet's length. */
  maxCaptionTokens?: number;
  synthesis: SynthesisMode;
  format: OutputFormat;
  allowRemoteUrls: boolean;
}

/** The detective LLM: the embedded local model or a model behind an OpenAI-compatible URL. */
export type LlmSpec = { kind: 'local'; model: string } | { kind: 'openai'; url: string; model: string };

/** The vision-model observer of a run: where (not signed), which model and whether it is sent video. */
export interface VlmSpec {
  url: string;
  model: string;
  video: boolean;
}

export interface ObserverSpec {
  /** Observer names, in toolbox order. */
  names: string[];
  captioner?: string;
  audioLm?: { url: string; model: string };
  vlm?: VlmSpec;
}

/** How jobs are run; not part of the signature (it does not change a clip's line). */
export interface RunPolicy {
  /** Attempts per clip for infrastructure failures (1 = no retry). */
  attempts: number;
  /** First retry delay (exponential backoff: x2 per attempt). */
  backoffMs: number;
  /** Per-job timeout (ms); 0 = none. */
  jobTimeoutMs: number;
}

export interface RunManifest {
  version: 1;
  signature: string;
  input: { path: string; digest: string; clips: number };
  prompts: PromptRecord[];
  llm: LlmSpec;
  observers: ObserverSpec;
  options: RunOptions;
  policy: RunPolicy;
  createdAt: string;
}

/** Digest of the clip list as read: ids, input lines and URLs, not where the files are mounted. */
export function inputDigest(clips: readonly DetectiveClip[]): string {
  return sha256(JSON.stringify(clips.map((c) => [c.id, c.item ?? null, c.remoteUrl ?? null])));
}

type SignedParts = Pick<RunManifest, 'input' | 'prompts' | 'llm' | 'observers' | 'options'>;

function signedFields(m: SignedParts): Record<string, unknown> {
  // the URL of an OpenAI-compatible endpoint is where the model runs, not what it is
  const llm = m.llm.kind === 'local' ? m.llm : { kind: m.llm.kind, model: m.llm.model };
  const observers = { ...m.observers, audioLm: m.observers.audioLm?.model, vlm: m.observers.vlm === undefined ? undefined : { model: m.observers.vlm.model, video: m.observers.vlm.video } };
  return { input: m.input.digest, prompts: m.prompts, models: { llm, observers }, options: m.options };
}

export function makeManifest(parts: SignedParts & { policy: RunPolicy }, now = new Date()): RunManifest {
  return { version: 1, signature: sha256(JSON.stringify(signedFields(parts))), ...parts, createdAt: now.toISOString() };
}

/** Which parts of two manifests differ (input, prompts, models, options). */
export function manifestDifferences(a: RunManifest, b: RunManifest): string[] {
  const fa = signedFields(a);
  const fb = signedFields(b);
  return Object.keys(fa).filter((k) => JSON.stringify(fa[k]) !== JSON.stringify(fb[k]));
}

function describe(field: string, m: RunManifest): string {
  switch (field) {
    case 'input':
      return `input ${m.input.path} (${m.input.clips} clips, digest ${m.input.digest.slice(0, 12)})`;
    case 'prompts':
      return `prompts ${m.options.promptVersion} (${m.prompts.map((p) => `${p.name}:${p.sha256.slice(0, 8)}`).join(', ')})`;
    case 'models':
      return `models ${m.llm.model} + observers ${m.observers.names.join(',')}`;
    default:
      return `options ${JSON.stringify(m.options)}`;
  }
}

export function mismatchError(queue: string, stored: RunManifest, wanted: RunManifest): QueueRunMismatchError {
  const diff = manifestDifferences(stored, wanted);
  const lines = diff.map((f) => `${f}: the queue has ${describe(f, stored)}, this run has ${describe(f, wanted)}`);
  return new QueueRunMismatchError(
    `queue ${JSON.stringify(queue)} holds jobs of another run (created ${stored.createdAt}); nothing was enqueued. ${lines.join('; ')}. ` +
      `Use another --queue-name, or remove the old run with 'omnicap queue obliterate' once its results are written.`,
    { details: { queue, differences: diff, stored: stored.signature, wanted: wanted.signature } },
  );
}

/** The manifest in `text`; undefined when it is not JSON or not a version-1 manifest (the caller decides what that means). */
export function parseManifest(text: string): RunManifest | undefined {
  try {
    const m = JSON.parse(text) as RunManifest;
    return m !== null && typeof m === 'object' && m.version === 1 && typeof m.signature === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}
