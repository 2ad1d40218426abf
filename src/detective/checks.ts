/**
 * Checks of a final caption that catch the ways a small LLM fails silently: an echo of its prompt,
 * text that carries none of the observations, degenerate repetition, a caption that drops the
 * transcript. A failed check makes the clip `degraded` (with the reason), never `ok`.
 */
import { normalizeWords } from './observers/wer';

const STOP = new Set(
  'the a an and or of to in on at for with from by is are was were be been being it its this that these those as not no but if then than there their they them he she his her you your we our i me my so do does did has have had can could will would should may might must shall into over under about after before during while which who whom what when where why how all any each both few more most other some such only own same too very just also'.split(
    ' ',
  ),
);

/** Lower-case word tokens, normalised as for word error rates (hyphens split, "Mr." -> "mister"). */
export function words(text: string): string[] {
  return normalizeWords(text);
}

/** Content words: not stop words, at least 3 characters. */
export function contentWords(text: string): string[] {
  return words(text).filter((w) => w.length >= 3 && !STOP.has(w));
}

function ngrams(ws: readonly string[], n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i + n <= ws.length; i++) out.push(ws.slice(i, i + n).join(' '));
  return out;
}

/** Share of the caption's word 6-grams that occur in the prompt text (0 when the caption is short). */
export function echoShare(caption: string, promptText: string): number {
  const grams = ngrams(words(caption), 6);
  if (grams.length === 0) return 0;
  const inPrompt = new Set(ngrams(words(promptText), 6));
  return grams.filter((g) => inPrompt.has(g)).length / grams.length;
}

/** Share of word 4-grams that repeat an earlier 4-gram of the same text. */
export function repetitionShare(text: string): number {
  const grams = ngrams(words(text), 4);
  if (grams.length < 8) return 0;
  const seen = new Set<string>();
  let repeats = 0;
  for (const g of grams) {
    if (seen.has(g)) repeats++;
    else seen.add(g);
  }
  return repeats / grams.length;
}

/** Share of the reference's words (in order, as a multiset) that occur in the text. */
export function wordRecall(reference: string, text: string): number {
  const ref = words(reference);
  if (ref.length === 0) return 1;
  const have = new Map<string, number>();
  for (const w of words(text)) have.set(w, (have.get(w) ?? 0) + 1);
  let hit = 0;
  for (const w of ref) {
    const n = have.get(w) ?? 0;
    if (n > 0) {
      hit++;
      have.set(w, n - 1);
    }
  }
  return hit / ref.length;
}

export interface CaptionCheckInput {
  caption: string;
  /** Every prompt text the LLM saw that is not observation content (system, instructions). */
  promptText: string;
  /** The observers' answers, as shown to the LLM. */
  observationText: string;
  /** The full ASR transcript, when speech was recognised. */
  transcript?: string;
  /** False for a clip without a video stream: a caption describing a picture is then invented. */
  hasVideo?: boolean;
}

const VISUAL_CLAIM = /\b(on[- ]screen|shown on|displayed|the (?:video|picture|image|frame)s?\b|title screen|we see|is seen)/i;

export interface CaptionCheck {
  ok: boolean;
  reasons: string[];
  metrics: { echo: number; repetition: number; grounding: number; transcriptRecall: number | null };
}

export const CHECK_LIMITS = {
  minChars: 40,
  /** More than this share of 6-grams copied from the prompt is an echo. */
  maxEcho: 0.2,
  maxRepetition: 0.3,
  /** At least this share of the caption's content words must come from the observations. */
  minGrounding: 0.25,
  /** At least this share of the transcript's words must be in the caption. */
  minTranscriptRecall: 0.8,
  /** Words the caption must have besides the quoted transcript (a caption is more than a transcript). */
  minDescriptionWords: 12,
} as const;

/** Sentences or lines of 30+ characters that occur more than once (normalised). */
export function repeatedSentences(text: string): number {
  const seen = new Set<string>();
  let repeats = 0;
  for (const part of text.split(/(?<=[.!?])\s+|\n+/)) {
    const key = words(part).join(' ');
    if (key.length < 30) continue;
    if (seen.has(key)) repeats++;
    else seen.add(key);
  }
  return repeats;
}

export function checkCaption(input: CaptionCheckInput): CaptionCheck {
  const reasons: string[] = [];
  const caption = input.caption.trim();
  const echo = echoShare(caption, input.promptText);
  const repetition = repetitionShare(caption);
  const cw = contentWords(caption);
  const obs = new Set(contentWords(input.observationText));
  const grounding = cw.length === 0 ? 0 : cw.filter((w) => obs.has(w)).length / cw.length;
  const transcriptRecall = input.transcript !== undefined && words(input.transcript).length > 0 ? wordRecall(input.transcript, caption) : null;
  if (caption.length < CHECK_LIMITS.minChars) reasons.push(`caption too short (${caption.length} characters)`);
  if (echo > CHECK_LIMITS.maxEcho) reasons.push(`prompt echo: ${(echo * 100).toFixed(0)} % of the caption's 6-word sequences are copied from the prompt`);
  if (repetition > CHECK_LIMITS.maxRepetition) reasons.push(`degenerate repetition: ${(repetition * 100).toFixed(0)} % of 4-word sequences repeat`);
  if (cw.length > 0 && grounding < CHECK_LIMITS.minGrounding) reasons.push(`no observation content: only ${(grounding * 100).toFixed(0)} % of the caption's content words come from the observations`);
  if (transcriptRecall !== null && transcriptRecall < CHECK_LIMITS.minTranscriptRecall) reasons.push(`transcript missing: ${(transcriptRecall * 100).toFixed(0)} % of the transcribed words are in the caption`);
  const repeated = repeatedSentences(caption);
  if (repeated > 0) reasons.push(`degenerate repetition: ${repeated} sentence${repeated > 1 ? 's' : ''} repeated`);
  if (input.hasVideo === false && VISUAL_CLAIM.test(caption)) reasons.push('describes a picture, but the clip has no video stream');
  const described = words(caption.replace(/"[^"]*"/g, ' ')).length;
  if (caption.length >= CHECK_LIMITS.minChars && described < CHECK_LIMITS.minDescriptionWords) reasons.push(`no description: only ${described} words besides the quoted speech`);
  return { ok: reasons.length === 0, reasons, metrics: { echo, repetition, grounding, transcriptRecall } };
}

