/** The Omni-Cloze vocabulary shared by parsing, judging, scoring and building: letters, modalities, clips, blanks. */

export const LETTERS = ['A', 'B', 'C', 'D', 'E'] as const;
export type Letter = (typeof LETTERS)[number];
export type ContentLetter = 'A' | 'B' | 'C' | 'D';
export type Modality = 'audio' | 'visual' | 'audio-visual';
export const MODALITIES: readonly Modality[] = ['audio', 'visual', 'audio-visual'];

export interface ClozeBlank {
  id: string;
  options: Record<Letter, string>;
  answer: Letter;
  modality: Modality;
  category?: string;
}

export interface ClozeClip {
  id: string;
  domain: string;
  category: string;
  passage: string;
  blanks: ClozeBlank[];
  /** The caption under evaluation (from the configured field), if present. */
  caption?: string;
}

export function isLetter(v: unknown): v is Letter {
  return typeof v === 'string' && (LETTERS as readonly string[]).includes(v);
}

export function normalizeModality(v: unknown): Modality | undefined {
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase().replace(/[\s_+/&]+/g, '-');
  if (s === 'audio' || s === 'a' || s === 'speech' || s === 'sound' || s === 'music') return 'audio';
  if (s === 'visual' || s === 'video' || s === 'v' || s === 'vision') return 'visual';
  if (s === 'audio-visual' || s === 'audiovisual' || s === 'av' || s === 'a-v' || s === 'audio-video') return 'audio-visual';
  return undefined;
}

/** Blank ids referenced in a passage, in order of appearance ("[BLANK_3]" -> "3"). */
export function passageBlankIds(passage: string): string[] {
  return [...passage.matchAll(/\[BLANK_([A-Za-z0-9-]+)\]/g)].map((m) => m[1]);
}

export interface JudgedBlank {
  id: string;
  answer: Letter;
  /** The judge's choice, mapped back to the original option letters. */
  predicted: Letter;
  modality: Modality;
  category?: string;
  /** The caption words the judge quoted for its choice. */
  evidence?: string;
  /** The judge's own letter (original lettering), when grounding refused it and the blank counted as E. */
  ungroundedChoice?: Letter;
  /** Why grounding refused the judge's letter (quote not in the caption, supports another option, ...). */
  groundingReason?: string;
  /** The judge's first reply when its quote did not back its letter and it was asked once more. */
  firstReply?: { letter: Letter; evidence?: string; reason: string };
}
