/**
 * Deterministic synthesis: the clip's fact sheet (facts.ts) told as one chronological account: the
 * clip and the picture's format, then every timed fact in time order (shots, on-screen text,
 * sounds, speech interleaved), then the facts about the whole clip (the signal), as one paragraph.
 * `--synthesis template`, and the fallback when the LLM caption fails its checks.
 */
import { factSheet, type ClipFacts } from './facts';
import { storySentences } from './facts-timeline';
import type { DetectiveRound } from './types';

export { describeClip, type ClipFacts } from './facts';

/** `cap` shortens each long text (the LLM's copy of the facts stays within its context). */
export function templateCaption(rounds: readonly DetectiveRound[], facts: ClipFacts, cap: (text: string) => string = (t) => t): string {
  return storySentences(factSheet(rounds, facts, cap).story).join(' ');
}
