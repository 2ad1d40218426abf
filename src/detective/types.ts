/** Public types of the Omni-Detective pipeline. */
import type { ObserveResult, ObserverInfo } from '../observers';
import type { ChatMessage } from '../llm/types';
import type { CaptionCheck } from './checks';
import type { ClaimProvenance, ProvenanceEvidence } from '../schema/annotation';

export type { ClaimProvenance, ProvenanceEvidence };

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

/**
 * One round of the trajectory; discriminated on `status`. `upfront`: a fixed-report observer gathered
 * before the decision rounds (asked FIXED_REPORT_QUESTION, no LLM call chose it).
 */
export type DetectiveRound =
  | { round: number; status: 'ok'; tool: string; question: string; answer: string; cached: boolean; ms: number; data?: unknown; upfront?: true }
  | { round: number; status: 'observer_error'; tool: string; question: string; error: { code: string; message: string }; ms: number; upfront?: true }
  | { round: number; status: 'invalid_output'; raw: string; error: { code: string; message: string }; ms: number }
  | { round: number; status: 'finish'; reason: string; ms: number };

export interface PromptRecord {
  name: string;
  version: string;
  sha256: string;
}

export interface DetectiveUsage {
  promptTokens: number;
  completionTokens: number;
  /** Prompt tokens the LLM actually evaluated, where the backend reports it (a reused prefix is not evaluated again). */
  evaluatedTokens?: number;
  llmCalls: number;
}

export type SynthesisMode = 'llm' | 'template';

/** Wall time of a clip's stages: the fixed reports gathered up front, the decision rounds, the caption (synthesis, checks, revision). */
export interface DetectiveStages {
  fixedReportsMs: number;
  roundsMs: number;
  synthesisMs: number;
}

export interface DetectiveResult {
  id: string;
  /** `degraded`: the caption is usable but something failed (see degradedReasons); never silent. */
  status: 'ok' | 'degraded';
  degradedReasons?: string[];
  caption: string;
  synthesis: {
    mode: SynthesisMode;
    /** Where the caption came from: the LLM, or the deterministic template (chosen or as fallback). */
    source: SynthesisMode;
    check?: CaptionCheck;
    /** The LLM caption that failed its check, kept for inspection. */
    rejectedCaption?: string;
    /** When the first LLM caption failed its checks: it and its problems (the LLM was then asked once to write it again, avoiding them). */
    firstAttempt?: { caption: string; reasons: string[] };
  };
  rounds: DetectiveRound[];
  /** For each sentence of `caption`, the observations that support it (facts-provenance.ts). */
  provenance: ClaimProvenance[];
  /**
   * The detective's conversation as it ran: the system prompt, each round's user turn and the
   * detective's JSON reply (re-asks included), then the synthesis prompt when the LLM wrote the
   * caption. The caption itself is `caption`.
   */
  messages: ChatMessage[];
  /** Observers offered to the detective for this clip (those that can perceive it). */
  offered: string[];
  toolCalls: Record<string, number>;
  usage: DetectiveUsage;
  model: string;
  seed: number;
  prompts: PromptRecord[];
  seconds: number;
  stages: DetectiveStages;
}

/** Observers bound to a clip's media, as the agent sees them. Its owner disposes it (`await using`). */
export interface ObserverToolbox extends AsyncDisposable {
  list(): ObserverInfo[];
  /** One observer, the clip's media and one question: no history, no other observers. */
  observe(clip: DetectiveClip, tool: string, question: string, signal?: AbortSignal): Promise<ObserveResult & { cached: boolean }>;
  /** Count of real (non-cached) observer invocations so far, by observer name. */
  calls(): Record<string, number>;
  /** Disposes the observers (their processes end, their sessions are released); later calls reject with DISPOSED. Idempotent. */
  dispose(): Promise<void>;
}

export interface DetectiveOptions {
  /** Maximum decision rounds, spent on observers that answer questions (default 10); fixed reports are gathered up front and count no round. */
  rounds?: number;
  /** Fixed-report observers run at once when gathered up front (default: the cores, at most 4). */
  observerConcurrency?: number;
  signal?: AbortSignal;
  /** Recorded in the output and passed to every LLM call (default 0). */
  seed?: number;
  /** Re-asks after an invalid JSON reply before the round is recorded as failed (default 2). */
  maxReasks?: number;
  /** Sampling temperature of the agent (default 0). */
  temperature?: number;
  /**
   * Hard limit of the synthesis call's tokens. Default: {@link autoCaptionTokens} of the fact sheet
   * (a caption retells its facts; a fixed 512 cut a 36 s screencast's caption before its last slide).
   */
  maxCaptionTokens?: number;
  /** `llm` (default): the detective writes the caption, checked, template as fallback; `template`: deterministic. */
  synthesis?: SynthesisMode;
  /** Token budget of one observer answer in the conversation (default: an equal share of the context). */
  observationTokens?: number;
}
