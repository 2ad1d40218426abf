/**
 * Claim provenance: for each sentence of a caption, the observations that support it, found
 * deterministically (no LLM) in the rounds' structured data:
 *   - quoted or transcribed words -> the speech segments that hold them (with their times);
 *   - quoted on-screen strings -> the OCR spans that read them;
 *   - sound names -> the sound-event windows of that class (or family), sound-segment words
 *     ("music", "silence", "noise") -> the VAD segments;
 *   - words about the picture (brightness, colours, movement, cuts, black or frozen) -> the shots,
 *     cuts and motion spans the video observer measured, or a vision model's answer using them;
 *   - loudness, noise, clipping, band and beat words -> the signal report; numbers and times -> the
 *     facts that state them (a shot, a segment, an event, a level; the clip's length: round 0, `media`).
 * A sentence with none is `supported: false`.
 */
import { sentenceSpans } from './checks-modality';
import { describeClip, isAsrData, isSignalReport, isSoundEventData, isVadData, signalFact, type ClipFacts, type OkRound } from './facts';
import { isVideoData } from './facts-picture';
import { isOcrData } from './facts-screen';
import { brightnessWord, contrastWord, saturationWord } from './observers/colour';
import { SOUND_LABELS, soundStem, soundVocabulary } from './observers/sound-labels';
import { describeMotion } from './observers/video';
import { normalizeWords } from './observers/wer';
import type { ClaimProvenance, DetectiveRound, ProvenanceEvidence } from './types';

/** What one observation stated, indexed for matching. */
interface Fact {
  ev: ProvenanceEvidence;
  kind: 'speech' | 'screen' | 'sound-event' | 'segment' | 'shot' | 'cut' | 'motion' | 'black' | 'frozen' | 'format' | 'signal' | 'media' | 'answer' | 'report';
  words: string[];
  /** Numbers the fact states (times, levels). */
  numbers: number[];
  /** Sound classes (sound events: class, its parent, or the family's classes); VAD label. */
  classes?: Set<string>;
}

/** Most evidence items kept per sentence. */
export const MAX_EVIDENCE = 12;
const QUOTED = /"([^"]*)"|\u201c([^\u201d]*)\u201d/g;
const NUMBER = /(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]*\d)/g;
const STOP = new Set('the a an and or of to in on at for with from by is are was were be been it its this that then as not no but there their they one two s seconds second'.split(' '));

const r1 = (t: number): number => Number(t.toFixed(2));
const content = (text: string): string[] => normalizeWords(text).filter((w) => w.length >= 3 && !STOP.has(w));

function span(round: number, tool: string, start: number, end: number, text: string): ProvenanceEvidence {
  return { round, tool, start_seconds: r1(start), end_seconds: r1(end), text };
}

function numbersIn(text: string): number[] {
  return [...text.matchAll(NUMBER)].map((m) => Number(m[0]));
}

/** Every fact the rounds state, with its words, numbers and times. */
function collectFacts(rounds: readonly DetectiveRound[], facts: ClipFacts): Fact[] {
  const out: Fact[] = [];
  const clip = describeClip(facts);
  out.push({ ev: { round: 0, tool: 'media', text: clip }, kind: 'media', words: content(clip), numbers: facts.durationSeconds !== undefined ? [facts.durationSeconds] : [] });
  const families = new Map<string, string[]>();
  for (const l of SOUND_LABELS) families.set(l.family, [...(families.get(l.family) ?? []), l.id]);
  const parents = new Map(SOUND_LABELS.map((l) => [l.id, l.parent]));
  for (const r of rounds.filter((x): x is OkRound => x.status === 'ok')) {
    const { round, tool } = r;
    // what an observer reported as a whole (it found no speech, no text, no sound event): evidence for a sentence that says so
    if (tool === 'asr' || tool === 'ocr' || tool === 'sound_events') out.push({ ev: { round, tool, text: r.answer.length > 160 ? `${r.answer.slice(0, 157)}...` : r.answer }, kind: 'report', words: [], numbers: [] });
    if (tool === 'asr' && isAsrData(r.data)) {
      for (const s of r.data.segments.filter((x) => x.end > x.start && x.text.trim() !== '')) out.push({ ev: span(round, tool, s.start, s.end, s.text.trim()), kind: 'speech', words: normalizeWords(s.text), numbers: [s.start, s.end] });
    } else if (tool === 'ocr' && isOcrData(r.data)) {
      for (const t of r.data.texts) out.push({ ev: span(round, tool, t.first, t.last, t.text), kind: 'screen', words: normalizeWords(t.text), numbers: [t.first, t.last] });
      for (const c of r.data.changes ?? []) out.push({ ev: span(round, tool, c.before, c.after, `${c.label}: ${c.from} -> ${c.to}`), kind: 'screen', words: normalizeWords(`${c.label} ${c.from} ${c.to}`), numbers: [c.before, c.after, (c.before + c.after) / 2] });
    } else if (tool === 'sound_events' && isSoundEventData(r.data)) {
      for (const e of r.data.events) {
        const classes = new Set(e.kind === 'family' ? families.get(e.label) ?? [] : [e.label, ...(parents.get(e.label) !== undefined ? [parents.get(e.label) as string] : [])]);
        out.push({ ev: span(round, tool, e.start, e.end, e.words), kind: 'sound-event', words: content(e.words), numbers: [e.start, e.end], classes });
      }
    } else if (tool === 'vad' && isVadData(r.data)) {
      for (const s of r.data.segments) out.push({ ev: span(round, tool, s.start, s.end, s.label), kind: 'segment', words: [s.label], numbers: [s.start, s.end], classes: new Set([s.label]) });
    } else if (tool === 'video' && isVideoData(r.data)) {
      const d = r.data;
      d.scenes.forEach((s, i) => {
        const k = s.keyframe;
        const text = `shot ${i + 1}: ${brightnessWord(k.brightness)}, ${contrastWord(k.contrast)}, ${saturationWord(k.saturation)}${k.colours.length > 0 ? `; ${k.colours.map((c) => c.name).join(', ')}` : ''}`;
        out.push({ ev: span(round, tool, s.start, s.end, text), kind: 'shot', words: normalizeWords(text), numbers: [s.start, s.end] });
      });
      for (const c of d.cuts) out.push({ ev: span(round, tool, c.time, c.time, 'scene cut'), kind: 'cut', words: ['cut', 'cuts'], numbers: [c.time] });
      for (const m of d.motion) out.push({ ev: span(round, tool, m.start, m.end, describeMotion(m)), kind: 'motion', words: [...normalizeWords(describeMotion(m)), m.kind], numbers: [m.start, m.end, m.speed] });
      for (const b of d.black) out.push({ ev: span(round, tool, b.start, b.end, 'black picture'), kind: 'black', words: ['black'], numbers: [b.start, b.end] });
      for (const f of d.frozen) out.push({ ev: span(round, tool, f.start, f.end, 'picture unchanged'), kind: 'frozen', words: ['still', 'frozen', 'unchanged', 'change'], numbers: [f.start, f.end] });
      const shots = d.scenes.length <= 1 ? 'one continuous shot' : `${d.scenes.length} shots`;
      out.push({ ev: { round, tool, text: `${d.width}x${d.height}${d.fps !== null ? ` at ${d.fps} fps` : ''}, ${shots}` }, kind: 'format', words: [], numbers: [d.width, d.height, d.scenes.length, ...(d.fps !== null ? [d.fps] : [])] });
    } else if (tool === 'signal' && isSignalReport(r.data)) {
      const text = signalFact(r.data);
      out.push({ ev: { round, tool, text }, kind: 'signal', words: content(text), numbers: numbersIn(text) });
    } else {
      const text = r.answer.length > 240 ? `${r.answer.slice(0, 237)}...` : r.answer;
      out.push({ ev: { round, tool, text }, kind: 'answer', words: content(r.answer), numbers: numbersIn(r.answer) });
    }
  }
  return out;
}

/** Share of `part`'s words found in `whole` (as a multiset). */
function covered(part: readonly string[], whole: readonly string[]): number {
  if (part.length === 0) return 0;
  const have = new Map<string, number>();
  for (const w of whole) have.set(w, (have.get(w) ?? 0) + 1);
  let hit = 0;
  for (const w of part) {
    const n = have.get(w) ?? 0;
    if (n > 0) {
      hit++;
      have.set(w, n - 1);
    }
  }
  return hit / part.length;
}

/** A quote holds a fact's text: most of the fact's words, or most of the quote's when the fact is longer. */
function quoteMatches(quote: readonly string[], fact: readonly string[]): boolean {
  if (quote.length === 0 || fact.length === 0) return false;
  return covered(fact, quote) >= 0.6 || (quote.length >= 2 && covered(quote, fact) >= 0.8);
}

const SIGNAL_WORDS = /\b(?:quiet|loud|loudness|lufs|dbfs|dbtp|db|noise|noisy|clean|clipp\w*|distort\w*|peaks?|telephone|narrow[- ]band|band|beat|bpm|tempo|fading|decay\w*|level)\b/i;
const VISUAL_WORDS = /\b(?:picture|image|frame|shot|scene|camera|view|screen|video|colou?r\w*|bright\w*|dark|dim|contrast\w*|saturat\w*|vivid\w*|muted|pans?|panning|shak\w*|steady|static|moves?|moving|movement|motion|cuts?|black|frozen|still)\b/i;
const SPEECH_WORDS = /\b(?:voices?|speaks?|speaking|spoken|speech|says|said|talk\w*|words?|english|french|german|spanish|language)\b/i;
const FORMAT_WORDS = /\b(?:pixels|frames per second|fps|resolution|continuous shot|\d+ shots)\b/i;
const NEGATED = /\b(?:no|not|nothing|none|without|cannot|could not)\b/i;
const REPORT_TOPIC: Record<string, RegExp> = { asr: SPEECH_WORDS, ocr: /\b(?:text|screen)\b/i, sound_events: /\b(?:sound events?|particular sound|sound like)\b/i };
const MEDIA_WORDS = /\b(?:lasting|lasts|long|seconds|duration|audio recording|video without|no audio|no sound|silent video|no picture)\b/i;

/** The provenance of each sentence of `caption`. */
export function claimProvenance(caption: string, rounds: readonly DetectiveRound[], facts: ClipFacts): ClaimProvenance[] {
  const all = collectFacts(rounds, facts);
  const vocab = soundVocabulary();
  return sentenceSpans(caption).map(({ sentence, start, end }) => {
    const found: ProvenanceEvidence[] = [];
    const add = (f: Fact): void => {
      if (!found.includes(f.ev)) found.push(f.ev);
    };
    const quotes = [...sentence.matchAll(QUOTED)].map((m) => normalizeWords(m[1] ?? m[2] ?? ''));
    const bare = sentence.replace(QUOTED, ' ');
    const bareWords = normalizeWords(bare);
    const stems = new Set(bareWords.map(soundStem));
    const numbers = numbersIn(bare);
    const near = (f: Fact): boolean => numbers.some((n) => f.numbers.some((k) => Math.abs(k - n) <= 0.051 + Math.abs(n) * 1e-3));
    // quoted words: speech segments and on-screen strings
    for (const q of quotes) for (const f of all) if ((f.kind === 'speech' || f.kind === 'screen') && quoteMatches(q, f.words)) add(f);
    // transcribed words without quotes
    for (const f of all) if (f.kind === 'speech' && f.words.length >= 3 && covered(f.words, bareWords) >= 0.6) add(f);
    // sound names: the sound-event classes the sentence's words name
    const named = new Set([...stems].flatMap((s) => [...(vocab.get(s) ?? [])]));
    for (const f of all) {
      if (f.kind === 'sound-event' && ([...(f.classes ?? [])].some((c) => named.has(c)) || f.words.some((w) => stems.has(soundStem(w))))) add(f);
    }
    // a VAD "music" segment is a measured tonal spectrum: "music" is never its word
    const segWords: Record<string, RegExp> = { music: /\b(?:tonal|pitched)\b/i, silence: /\b(?:silen\w*|quiet stretch)\b/i, noise: /\bnoise\b/i, speech: /\b(?:speech|voice|spoken|speaks?|sings?|singing)\b/i, sound: /\bother sound\b/i };
    const anySound = /\b(?:a|some) sound is heard\b/i.test(bare);
    for (const f of all) {
      if (f.kind !== 'segment') continue;
      const label = [...(f.classes ?? [])][0] ?? '';
      const generic = anySound && ['music', 'noise', 'sound'].includes(label) && numbers.length > 0;
      if ((segWords[label]?.test(bare) === true || generic) && (numbers.length === 0 || near(f))) add(f);
    }
    // the picture
    if (VISUAL_WORDS.test(bare)) {
      for (const f of all) {
        if (f.kind === 'shot' && (near(f) || f.words.some((w) => w.length >= 3 && !['shot', 'and'].includes(w) && bareWords.includes(w)))) add(f);
        else if (f.kind === 'cut' && /\bcuts?\b/i.test(bare) && (numbers.length === 0 || near(f))) add(f);
        else if (f.kind === 'motion' && /\b(?:camera|pans?|panning|shak\w*|steady|static|moves?|moving|movement|motion|still)\b/i.test(bare) && (numbers.length === 0 || near(f))) add(f);
        else if ((f.kind === 'black' || f.kind === 'frozen') && f.words.some((w) => bareWords.includes(w))) add(f);
      }
    }
    // free-text answers (a vision model, an audio model): two or more of their content words
    for (const f of all) if (f.kind === 'answer' && f.ev.tool !== 'video' && covered(content(bare), f.words) * content(bare).length >= 2) add(f);
    if (SIGNAL_WORDS.test(bare)) for (const f of all) if (f.kind === 'signal') add(f);
    if (FORMAT_WORDS.test(bare)) for (const f of all) if (f.kind === 'format') add(f);
    // a sentence that says an observer found nothing: that observer's report
    if (NEGATED.test(bare)) for (const f of all) if (f.kind === 'report' && REPORT_TOPIC[f.ev.tool]?.test(bare) === true && !found.some((e) => e.tool === f.ev.tool)) add(f);
    if (MEDIA_WORDS.test(bare)) for (const f of all) if (f.kind === 'media') add(f);
    // speech stated without a quote: the segments at the times the sentence gives
    if (SPEECH_WORDS.test(bare) && !found.some((e) => e.tool === 'asr')) for (const f of all) if (f.kind === 'speech' && (numbers.length === 0 || near(f))) add(f);
    // numbers and times: the facts that state them
    for (const f of all) if (f.kind !== 'answer' && near(f) && found.length < MAX_EVIDENCE && numbers.length > 0 && !found.includes(f.ev) && numberSupports(f, bare)) add(f);
    const evidence = found.slice(0, MAX_EVIDENCE);
    return { sentence, start, end, supported: evidence.length > 0, evidence };
  });
}

/** A number matched in a sentence about that stream (a time in a sentence about speech points at a speech segment, not at a shot). */
function numberSupports(f: Fact, sentence: string): boolean {
  switch (f.kind) {
    case 'speech':
      return SPEECH_WORDS.test(sentence) || /"/.test(sentence);
    case 'screen':
      return /\b(?:screen|text|reads?|shown|displayed)\b/i.test(sentence);
    case 'shot':
    case 'cut':
    case 'motion':
    case 'black':
    case 'frozen':
      return VISUAL_WORDS.test(sentence);
    case 'sound-event':
    case 'segment':
      return /\b(?:sound|heard|hear|music|noise|silence|tone)\b/i.test(sentence);
    default:
      return true;
  }
}
