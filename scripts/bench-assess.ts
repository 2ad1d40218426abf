/**
 * What a bench:detective caption states, right and wrong, per kind of clip: the sound it names
 * against the sound its file name states (and what the sound-event observer stated), speech or
 * quotes no observer gave, and for the silent video its cuts, colours and movement against the
 * render and any sound or speech it claims.
 */
import { disagreeingPictureWords, measuredPicture, modalityEvidence, sentenceSpans, speechClaims, ungroundedSounds, words, type DetectiveRound } from '../src/detective';
import { SOUND_LABELS, soundStem, soundVocabulary } from '../src/detective/observers/sound-labels';
import type { SoundEventData } from '../src/detective/observers/sound-events';
import type { VideoData } from '../src/detective/observers/video';
import type { Clip } from './bench-set';

export interface Assessment {
  /** The sound named in the caption against the labelled one. */
  soundNamed?: 'right' | 'wrong' | 'abstained' | 'none labelled, none named' | 'none labelled, one named';
  /** What the sound-event observer stated, against the label. */
  observerStated?: string;
  /** Speech or sound stated where none was heard. */
  inventedSpeech: boolean;
  picture?: { cutsRight: number; cutsStated: number; huesNamed: string[]; huesRendered: string[]; wrongWords: string[]; panNamed: boolean; claimsSound: boolean };
  notes: string[];
}

const QUOTED = /"([^"]*)"|\u201c([^\u201d]*)\u201d/g;
const labelOf = new Map(SOUND_LABELS.map((l) => [l.id, l]));

/** A stated class is right when it is the clip's class, its broader class, or music for a music clip. */
function classRight(stated: string, truth: string, kind: string): boolean {
  const t = labelOf.get(truth);
  return stated === truth || stated === t?.parent || (kind === 'music' && (stated === 'music' || labelOf.get(stated)?.parent === 'music'));
}

/** Sound classes a caption names (affirmative clauses, outside quotes). */
function namedClasses(caption: string): string[] {
  const vocab = soundVocabulary();
  return [...new Set(ungroundedSounds(caption, '').flatMap((w) => [...(vocab.get(soundStem(w)) ?? [])]))];
}

function observerVerdict(rounds: readonly DetectiveRound[], truth: string | null, kind: string): string {
  const r = rounds.find((x) => x.status === 'ok' && x.tool === 'sound_events');
  if (r === undefined || r.status !== 'ok') return 'sound events not run';
  const events = (r.data as SoundEventData | undefined)?.events ?? [];
  if (events.length === 0) return 'sound events: abstained';
  return `sound events stated ${events
    .map((e) => {
      const right = truth !== null && (e.kind === 'family' ? labelOf.get(truth)?.family === e.label : classRight(e.label, truth, kind));
      return `${e.kind === 'family' ? `${e.label} (family)` : e.label} (${truth === null ? 'none labelled' : right ? 'right' : 'wrong'})`;
    })
    .join(', ')}`;
}

export function assessCaption(clip: Clip, caption: string, rounds: readonly DetectiveRound[]): Assessment {
  const notes: string[] = [];
  const evidence = modalityEvidence(rounds);
  const speech = speechClaims(caption);
  const inventedSpeech = !evidence.speech && speech.length > 0;
  const out: Assessment = { inventedSpeech, notes };
  if (inventedSpeech) notes.push(`states speech no observer heard (${speech.join(', ')})`);
  const known = new Set(words(rounds.map((r) => (r.status === 'ok' ? `${r.answer} ${JSON.stringify(r.data ?? '')}` : '')).join(' ')));
  const invented = [...caption.matchAll(QUOTED)].map((m) => m[1] ?? m[2] ?? '').filter((q) => words(q).length >= 2 && words(q).filter((w) => known.has(w)).length / words(q).length < 0.7);
  if (invented.length > 0) notes.push(`quotes words no observer gave: ${invented.map((q) => `"${q}"`).join(', ')}`);
  if (clip.sound !== undefined) {
    const named = namedClasses(caption);
    if (clip.sound === null) out.soundNamed = named.length === 0 ? 'none labelled, none named' : 'none labelled, one named';
    else out.soundNamed = named.length === 0 ? 'abstained' : named.some((c) => classRight(c, clip.sound as string, clip.kind)) ? 'right' : 'wrong';
    out.observerStated = observerVerdict(rounds, clip.sound, clip.kind);
    notes.push(`labelled ${clip.sound ?? 'none'}; caption names ${named.length > 0 ? named.join(', ') : 'no sound'} (${out.soundNamed}); ${out.observerStated}`);
  }
  if (clip.picture !== undefined) {
    const cutSentences = sentenceSpans(caption).filter((s) => /\bcut/i.test(s.sentence)).map((s) => s.sentence.replace(QUOTED, ' '));
    const cutNumbers = cutSentences.flatMap((s) => [...s.matchAll(/\d+(?:\.\d+)?/g)].map((m) => Number(m[0]))).filter((n) => n > 0 && n < 100);
    const cutsRight = clip.picture.cuts.filter((c) => cutNumbers.some((n) => Math.abs(n - c) <= 0.2)).length;
    const video = rounds.find((r) => r.status === 'ok' && r.tool === 'video');
    const measured = video !== undefined && video.status === 'ok' ? measuredPicture(video.data as VideoData) : undefined;
    const wrongWords = measured !== undefined ? disagreeingPictureWords(caption, measured) : [];
    const bare = caption.replace(QUOTED, ' ').toLowerCase();
    const huesNamed = ['red', 'blue', 'green', 'yellow', 'orange', 'purple', 'black', 'white', 'grey', 'brown', 'pink', 'cyan', 'magenta'].filter((h) => new RegExp(`\\b${h}\\b`).test(bare));
    const claimsSound = namedClasses(caption).length > 0 || speech.length > 0 || /\b(?:is|are) heard\b/.test(bare.replace(/\bno[^.,;]*heard/g, ''));
    out.picture = { cutsRight, cutsStated: cutNumbers.length, huesNamed, huesRendered: clip.picture.hues, wrongWords, panNamed: /\bpan/.test(bare), claimsSound };
    notes.push(
      `cuts at ${clip.picture.cuts.join(' and ')} s: ${cutsRight} of ${clip.picture.cuts.length} stated right; colours named: ${huesNamed.join(', ') || 'none'} (rendered ${clip.picture.hues.join(', ')} + a Mandelbrot image); ${wrongWords.length > 0 ? `words against the measurements: ${wrongWords.join(', ')}` : 'no word against the measurements'}; pan ${out.picture.panNamed ? 'named' : 'not named'}; ${claimsSound ? 'claims sound or speech (wrong: no audio stream)' : 'claims no sound or speech'}`,
    );
  }
  if (notes.length === 0) notes.push('nothing invented found');
  return out;
}
