/**
 * Deterministic synthesis: a caption assembled from what each observer established, in a fixed
 * order (clip facts, segmentation, the full transcript, model descriptions, on-screen text, signal
 * measurements). `--synthesis template`, and the fallback when the LLM caption fails its checks.
 */
import type { DetectiveRound } from './types';

export interface ClipFacts {
  durationSeconds?: number;
  hasAudio: boolean;
  hasVideo: boolean;
}

type OkRound = Extract<DetectiveRound, { status: 'ok' }>;

/** The full ASR transcript from an observation's data (`transcript`, or joined `segments[].text`). */
export function transcriptOf(round: OkRound): string | undefined {
  const d = round.data as { transcript?: unknown; segments?: Array<{ text?: unknown }> } | undefined;
  if (typeof d?.transcript === 'string') return d.transcript.trim() || undefined;
  if (Array.isArray(d?.segments)) {
    const t = d.segments.map((s) => (typeof s?.text === 'string' ? s.text.trim() : '')).filter((s) => s !== '').join(' ');
    return t || undefined;
  }
  return undefined;
}

/** The transcript established by the ASR rounds of a trajectory (the first non-empty one). */
export function trajectoryTranscript(rounds: readonly DetectiveRound[], asrName = 'asr'): string | undefined {
  for (const r of rounds) if (r.status === 'ok' && r.tool === asrName) {
    const t = transcriptOf(r);
    if (t !== undefined) return t;
  }
  return undefined;
}

export function describeClip(facts: ClipFacts): string {
  const streams = facts.hasAudio && facts.hasVideo ? 'a video with sound' : facts.hasVideo ? 'a video without an audio stream' : 'an audio recording';
  const dur = facts.durationSeconds !== undefined && Number.isFinite(facts.durationSeconds) ? ` lasting ${facts.durationSeconds.toFixed(1)} seconds` : '';
  return `The clip is ${streams}${dur}.`;
}

const ORDER = ['vad', 'asr', 'captioner', 'audio_lm', 'ocr', 'signal'];
const LABEL: Record<string, string> = {
  vad: 'Sound segments',
  asr: 'Speech',
  captioner: 'Audio description (captioner model)',
  audio_lm: 'Audio-language model',
  ocr: 'On-screen text (seen in the picture, not heard)',
  signal: 'Signal measurements',
};

function sentence(s: string): string {
  const t = s.trim().replace(/\s+/g, ' ');
  return /[.!?"]$/.test(t) ? t : `${t}.`;
}

/** `cap` shortens each observer's answer (the LLM's copy of the facts stays within its context). */
export function templateCaption(rounds: readonly DetectiveRound[], facts: ClipFacts, cap: (text: string) => string = (t) => t): string {
  const ok = rounds.filter((r): r is OkRound => r.status === 'ok');
  const seen = new Set<string>();
  const parts = [describeClip(facts)];
  const rank = (tool: string): number => (ORDER.includes(tool) ? ORDER.indexOf(tool) : ORDER.length);
  for (const r of [...ok].sort((a, b) => rank(a.tool) - rank(b.tool) || a.round - b.round)) {
    const key = `${r.tool}\u0000${r.answer}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const label = LABEL[r.tool] ?? r.tool;
    if (r.tool === 'asr') {
      const t = transcriptOf(r);
      parts.push(t === undefined ? `${label}: ${sentence(cap(r.answer))}` : `${label}: the words spoken are "${cap(t)}"`);
    } else parts.push(`${label}: ${sentence(cap(r.answer))}`);
  }
  if (ok.length === 0) parts.push('No observer returned information about it.');
  return parts.join('\n');
}
