/**
 * Deterministic synthesis: the clip's fact sheet (facts.ts) as a caption, its sentences in a fixed
 * order (clip, sound over time, speech, model descriptions, on-screen text, signal) as one paragraph.
 * `--synthesis template`, and the fallback when the LLM caption fails its checks.
 */
import { factSheet, type ClipFacts } from './facts';
import type { DetectiveRound } from './types';

export { describeClip, type ClipFacts } from './facts';

/** `cap` shortens each long text (the LLM's copy of the facts stays within its context). */
export function templateCaption(rounds: readonly DetectiveRound[], facts: ClipFacts, cap: (text: string) => string = (t) => t): string {
  return factSheet(rounds, facts, cap).lines.join(' ');
}
