/**
 * Checks of a final caption that catch the ways a small LLM fails silently: an echo of its prompt,
 * text that carries none of the observations, degenerate repetition, a caption that drops the
 * transcript or the salient on-screen text, or quotes a partial reading of it. A failed check makes the clip `degraded` (with the reason), never `ok`.
 */
import { modalityReasons, ungroundedSounds, visualClaims, type ModalityEvidence } from './checks-modality';
import { STREAM_TAG } from './facts-timeline';
import { normalizeWords } from './observers/wer';

export { ungroundedSounds, visualClaims, speechClaims, disagreeingPictureWords, sentenceSpans, type ModalityEvidence, type MeasuredPicture } from './checks-modality';

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
  /** The transcript the caption must quote (confident speech), when speech was recognised. */
  transcript?: string;
  /** Speech the recognizer could not transcribe reliably: the caption must not quote it. */
  unreliableSpeech?: string;
  /** The salient text read on screen: the caption must carry it. */
  onScreenText?: readonly string[];
  /** Partial readings of on-screen text (cut off, half covered): the caption must not quote them. */
  screenFragments?: readonly string[];
  /** The fact sheet the caption was written from (its words may be in the caption whatever else holds them). */
  factText?: string;
  /** The caption as the LLM wrote it, before its layout was normalised (judged for headings and lists). */
  rawCaption?: string;
  /** False for a clip without a video stream: a caption describing a picture is then invented. */
  hasVideo?: boolean;
  /**
   * What the observations establish per stream (facts-evidence.ts): with it, a visual claim needs a
   * visual observation, a named sound a sound observation (not the transcript or the screen), speech
   * a heard voice, and picture words must agree with the measured classes.
   */
  evidence?: ModalityEvidence;
}

/** Who the speaker is (gender, age, a person noun): no observer here perceives it, so it must come from the facts. */
const IDENTITY = /\b(male|female|man|woman|men|women|boy|girl|gentleman|lady|child|elderly|young|old|he|she|his|her|him)\b/gi;
/** Speech attributed to someone ("delivered by", "spoken by"): a name or a person the observations never gave. */
const ATTRIBUTED = /\b(?:spoken|delivered|said|read|narrated|voiced|uttered|sung|performed)\s+by\b/i;
const QUOTED = /"[^"]*"|\u201c[^\u201d]*\u201d/g;
const META_TALK = /\b(?:the (?:given |provided |above |listed )?facts|observers?|these instructions|fact sheet)\b/i;
const VISUAL_CLAIM = /\b(on[- ]screen|shown on|displayed|the (?:video|picture|image|frame)s?\b|title screen|we see|is seen)/i;

export interface CaptionCheck {
  ok: boolean;
  reasons: string[];
  metrics: { echo: number; repetition: number; grounding: number; transcriptRecall: number | null; onScreenRecall: number | null; unreliableQuoted: number | null };
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
  /** At least this share of the on-screen text's words must be in the caption. */
  minOnScreenRecall: 0.8,
  /** At most this share of the unreliable speech's own content words may appear in the caption. */
  maxUnreliableQuoted: 0.3,
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

/**
 * The on-screen strings of which the caption carries no word of three letters or more: a slide or
 * title left out whole, which the overall on-screen recall lets pass when the other strings are long.
 */
export function leftOutStrings(strings: readonly string[], caption: string): string[] {
  const said = new Set(words(caption));
  return strings.filter((t) => {
    const ws = words(t).filter((w) => w.length >= 3);
    return ws.length > 0 && !ws.some((w) => said.has(w));
  });
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
  const screen = (input.onScreenText ?? []).join(' ');
  const onScreenRecall = words(screen).length > 0 ? wordRecall(screen, caption) : null;
  const leftOut = leftOutStrings(input.onScreenText ?? [], caption);
  if (onScreenRecall !== null && onScreenRecall < CHECK_LIMITS.minOnScreenRecall) reasons.push(`on-screen text missing: ${(onScreenRecall * 100).toFixed(0)} % of the words read on screen are in the caption`);
  else if (leftOut.length > 0) reasons.push(`on-screen text left out: ${leftOut.map((t) => JSON.stringify(t)).join(', ')} (no word of it is in the caption)`);
  const fragments = quotedFragments(caption, input.screenFragments ?? [], input.onScreenText ?? []);
  if (fragments.length > 0) reasons.push(`quotes partial on-screen readings: ${fragments.map((q) => `"${q}"`).join(', ')}`);
  const unreliableQuoted = quotedShare(input.unreliableSpeech, caption, `${input.transcript ?? ''} ${screen} ${input.factText ?? ''}`);
  if (unreliableQuoted !== null && unreliableQuoted > CHECK_LIMITS.maxUnreliableQuoted) reasons.push(`quotes unreliable speech: ${(unreliableQuoted * 100).toFixed(0)} % of the words the recognizer was not confident about are in the caption`);
  const repeated = repeatedSentences(caption);
  if (repeated > 0) reasons.push(`degenerate repetition: ${repeated} sentence${repeated > 1 ? 's' : ''} repeated`);
  if (input.hasVideo === false) {
    const seen = visualClaims(caption);
    if (seen.length === 0 && VISUAL_CLAIM.test(caption.replace(QUOTED, ' '))) seen.push(VISUAL_CLAIM.exec(caption.replace(QUOTED, ' '))?.[0].toLowerCase() ?? '');
    if (seen.length > 0) reasons.push(`describes a picture, but the clip has no video stream (${seen.map((w) => `"${w}"`).join(', ')})`);
  }
  const known = new Set(words(`${input.factText ?? ''} ${input.observationText}`.replace(QUOTED, ' ')));
  const guessed = [...new Set((caption.replace(QUOTED, ' ').match(IDENTITY) ?? []).map((w) => w.toLowerCase()))].filter((w) => !known.has(w));
  if (guessed.length > 0) reasons.push(`guesses who is speaking (${guessed.map((w) => `"${w}"`).join(', ')}), which no observation says`);
  else if (ATTRIBUTED.test(caption) && !ATTRIBUTED.test(`${input.factText ?? ''} ${input.observationText}`)) reasons.push(`guesses who is speaking ("${ATTRIBUTED.exec(caption)?.[0] ?? ''}"), which no observation says`);
  const described = wordsBesides(caption.replace(QUOTED, ' '), input.transcript ?? '');
  if (caption.length >= CHECK_LIMITS.minChars && described < CHECK_LIMITS.minDescriptionWords) reasons.push(`no description: only ${described} words besides the speech`);
  if (META_TALK.test(caption)) reasons.push('talks about the facts, the observers or the instructions instead of the clip');
  const layout = notProse(input.rawCaption ?? caption, caption);
  if (layout !== undefined) reasons.push(`not prose: ${layout}`);
  const numbers = inventedNumbers(caption, `${input.factText ?? ''} ${input.observationText} ${input.transcript ?? ''} ${screen}`);
  if (numbers.length > 0) reasons.push(`states numbers no observation gave: ${numbers.slice(0, 5).join(', ')}`);
  if (input.evidence !== undefined) reasons.push(...modalityReasons(caption, input.evidence, input.hasVideo));
  else {
    const sounds = ungroundedSounds(caption, `${input.factText ?? ''} ${input.observationText} ${input.transcript ?? ''} ${screen}`);
    if (sounds.length > 0) reasons.push(`names sounds no observation gave: ${sounds.map((w) => `"${w}"`).join(', ')}`);
  }
  const tag = STREAM_TAG.exec(caption.replace(QUOTED, ' '));
  if (tag !== null) reasons.push(`copies a stream tag of the facts ("${tag[0]}") instead of writing prose`);
  const invented = inventedQuotes(caption, `${input.transcript ?? ''} ${screen} ${input.factText ?? ''} ${input.observationText}`);
  if (invented.length > 0) reasons.push(`quotes words that no observation gave: ${invented.map((q) => `"${q.length > 60 ? `${q.slice(0, 57)}...` : q}"`).join(', ')}`);
  return { ok: reasons.length === 0, reasons, metrics: { echo, repetition, grounding, transcriptRecall, onScreenRecall, unreliableQuoted } };
}

/** A list item ("- ...", "1. ...") or a time-stamped entry ("0.3 s - 6.0 s: ..."). */
const LIST_ITEM = /^\s*(?:[-*\u2022#]|\d{1,2}[.)]\s|\d+(?:\.\d+)?\s*s\b)/;
/** A section label leading a line ("Speech Transcript: ...", "Sound Events and Music: ..."). */
const SECTION_LABEL = /^[A-Z][\w-]*(?:\s(?:[A-Z][\w-]*|and|of|on|the|in)){0,4}:\s/;

/**
 * Why a caption is laid out as a list or in sections rather than prose; undefined for prose. `raw`
 * is the LLM's answer (list items and lines without an end are judged there), `text` the
 * normalised caption, where a heading has joined its content (one section label is tolerated).
 */
function notProse(raw: string, text: string): string | undefined {
  const lines = raw.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const listed = lines.filter((l) => LIST_ITEM.test(l)).length;
  if (listed >= 2) return `${listed} of ${lines.length} lines are list items or time-stamped entries`;
  const unended = lines.filter((l) => !/[.!?:"\u201d)]$/.test(l)).length;
  if (lines.length >= 3 && unended >= 2) return `${unended} of ${lines.length} lines are headings or list items`;
  const labels = text.split(/\n+|(?<=[.!?"])\s+(?=[A-Z])/).filter((l) => SECTION_LABEL.test(l.trim())).length;
  if (labels >= 2) return `${labels} section headings`;
  return undefined;
}

const NUMBER = /(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\d)/g;

/**
 * Numbers outside quotes (times, levels) that match no number of the observations to their
 * precision: a time or a level the caption made up. Whole numbers up to 10 are left alone (counts).
 */
function inventedNumbers(caption: string, known: string): string[] {
  const have = [...known.matchAll(NUMBER)].map((m) => Number(m[0]));
  const out: string[] = [];
  for (const m of caption.replace(QUOTED, ' ').matchAll(NUMBER)) {
    const n = Number(m[0]);
    if (Number.isInteger(n) && Math.abs(n) <= 10 && !m[0].includes('.')) continue;
    const decimals = m[0].split('.')[1]?.length ?? 0;
    const tolerance = 0.5 * 10 ** -decimals + 1e-9;
    if (!have.some((k) => Math.abs(k - n) <= tolerance || Math.abs(Math.abs(k) - Math.abs(n)) <= tolerance)) out.push(m[0]);
  }
  return [...new Set(out)];
}

/** Quoted spans of 2+ words of which fewer than 70 % occur in `known`: words put in someone's mouth or on a screen. */
function inventedQuotes(caption: string, known: string): string[] {
  const have = new Set(words(known));
  const out: string[] = [];
  for (const m of caption.matchAll(/"([^"]+)"|\u201c([^\u201d]+)\u201d/g)) {
    const q = (m[1] ?? m[2] ?? '').trim();
    const ws = words(q);
    if (ws.length < 2) continue;
    if (ws.filter((w) => have.has(w)).length / ws.length < 0.7) out.push(q);
  }
  return out;
}

/**
 * Quoted spans of the caption that are partial readings of on-screen text: the reading itself, or
 * a span holding a word that only the partial readings have ("ETTINGS", "Setti").
 */
function quotedFragments(caption: string, fragments: readonly string[], whole: readonly string[]): string[] {
  if (fragments.length === 0) return [];
  const wholeWords = new Set(words(whole.join(' ')));
  const out: string[] = [];
  for (const m of caption.matchAll(/"([^"]+)"|\u201c([^\u201d]+)\u201d/g)) {
    const q = (m[1] ?? m[2] ?? '').trim();
    const wq = words(q);
    const isFragment = fragments.some((f) => {
      const wf = words(f);
      return wf.length > 0 && (wf.join(' ') === wq.join(' ') || wf.some((w) => !wholeWords.has(w) && wq.includes(w)));
    });
    if (isFragment) out.push(q);
  }
  return [...new Set(out)];
}

/** Words of `text` left after taking out, once each, the words of `speech` (a transcript quoted without quotes is still the transcript). */
function wordsBesides(text: string, speech: string): number {
  const left = new Map<string, number>();
  for (const w of words(speech)) left.set(w, (left.get(w) ?? 0) + 1);
  let n = 0;
  for (const w of words(text)) {
    const k = left.get(w) ?? 0;
    if (k > 0) left.set(w, k - 1);
    else n++;
  }
  return n;
}

/**
 * Share of the content words of `text` that are its own (not in `elsewhere`) and occur in
 * `caption`; null when it has none.
 */
function quotedShare(text: string | undefined, caption: string, elsewhere: string): number | null {
  if (text === undefined) return null;
  const other = new Set(contentWords(elsewhere));
  const own = [...new Set(contentWords(text))].filter((w) => !other.has(w));
  if (own.length === 0) return null;
  const have = new Set(contentWords(caption));
  return own.filter((w) => have.has(w)).length / own.length;
}

