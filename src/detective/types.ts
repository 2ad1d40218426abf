/** Public types of the Omni-Detective pipeline. */
import type { ObserveResult, ObserverInfo } from '../server/observers';

/** One clip to annotate: an id and a media file path (audio or video). */
export interface DetectiveClip {
  /** The key of the clip (resume, cache, logs): the input's string id, or its JSON text (see clipKey). */
  id: string;
  /** Local media file. For a remote `url` it is where the download goes (fetched before the clip runs). */
  path: string;
  /** An http(s) URL to fetch into `path` first (only with remote URLs allowed). */
  remoteUrl?: string;
  /** The input line as read (any `id` type, `url`/`path` and every other field), passed through to the output. */
  item?: Record<string, unknown>;
}

/** What the agent may do in one round (validated JSON from the detective LLM). */
export type DetectiveAction = { kind: 'observe'; tool: string; question: string } | { kind: 'finish' };

/** One round of the trajectory; discriminated on `status`. */
export type DetectiveRound =
  | { round: number; status: 'ok'; tool: string; question: string; answer: string; cached: boolean; ms: number; data?: unknown }
  | { round: number; status: 'observer_error'; tool: string; question: string; error: { code: string; message: string }; ms: number }
  | { round: number; status: 'invalid_output'; raw: string; error: { code: string; message: string }; ms: number }
  | { round: number; status: 'finish'; ms: number };

export interface PromptRecord {
  name: string;
  version: string;
  sha256: string;
}

export interface DetectiveUsage {
  promptTokens: number;
  completionTokens: number;
  llmCalls: number;
}

export interface DetectiveResult {
  id: string;
  caption: string;
  rounds: DetectiveRound[];
  toolCalls: Record<string, number>;
  usage: DetectiveUsage;
  model: string;
  seed: number;
  prompts: PromptRecord[];
  seconds: number;
}

/** Observers bound to a clip's media, as the agent sees them. */
export interface ObserverToolbox {
  list(): ObserverInfo[];
  /** One observer, the clip's media and one question: no history, no other observers. */
  observe(clip: DetectiveClip, tool: string, question: string, signal?: AbortSignal): Promise<ObserveResult & { cached: boolean }>;
  /** Count of real (non-cached) observer invocations so far, by observer name. */
  calls(): Record<string, number>;
  dispose(): Promise<void>;
}

export interface DetectiveOptions {
  /** Maximum observation rounds (default 10). */
  rounds?: number;
  signal?: AbortSignal;
  /** Recorded in the output and passed to every LLM call (default 0). */
  seed?: number;
  /** Re-asks after an invalid JSON reply before the round is recorded as failed (default 2). */
  maxReasks?: number;
  /** Sampling temperature of the agent (default 0). */
  temperature?: number;
  /** Max tokens of the synthesis call (default 512). */
  maxCaptionTokens?: number;
}
