/**
 * The fact sheet of one clip: what each observer established, read from the observers' structured
 * data (not their answer text) and put the way a caption should say it. It is both the deterministic
 * caption (`--synthesis template`, and the fallback) and what the synthesis LLM writes prose from,
 * so a small model is never handed a thing it should not repeat:
 *
 * - speech the recognizer was not confident about (Whisper confidence under exp(-1), the
 *   log-probability floor Whisper itself uses to reject a decode) is reported as speech that could
 *   not be transcribed, never quoted; segments timed past the clip's end (hallucinated) are dropped;
 * - sound classes with no time are left out, and a tempo is reported only when it is confident;
 * - signal numbers come with the plain words a caption uses (quiet, clean, clipping).
 *
 * It also returns what the caption checks need: the quoted transcript, the salient on-screen text
 * and its partial readings, and the words of speech that must not be quoted.
 */
import { isRecord } from '../util/guards';
import { MIN_TRANSCRIPT_CONFIDENCE, type AsrData, type AsrSegment } from './observers/asr';
import { isVideoData, pictureEvents, pictureFacts, pictureFormat } from './facts-picture';
import { isOcrData, screenFacts } from './facts-screen';
import { orderEvents, spanShows, type StoryEvent, type Storyline } from './facts-timeline';
import type { SoundEventData } from './observers/sound-events';
import { SOUND_LABELS } from './observers/sound-labels';
import { DIGITAL_SILENCE_DBFS, NARROW_BAND_MAX_HZ, percentOf, quietPartsFade, type SignalReport } from './signal';
import type { DetectiveRound } from './types';
import type { VadLabel } from './observers/vad';
import { isVlmData, vlmFact } from './observers/vlm';

export { MIN_TRANSCRIPT_CONFIDENCE };

export interface ClipFacts {
  durationSeconds?: number;
  hasAudio: boolean;
  hasVideo: boolean;
}

export interface FactSheet {
  /** One fact per line, in caption order: clip, sound over time, speech, models, picture, screen text, signal. */
  lines: string[];
  /** The speech transcript a caption must quote (confident segments only). */
  transcript?: string;
  /** Words of speech too uncertain to quote (a caption must not carry them). */
  unreliableSpeech?: string;
  /** The salient text read on screen (a caption must carry it). */
  onScreenText: string[];
  /** Partial readings of on-screen text (a caption must not quote them). */
  screenFragments: string[];
  /** The same facts as one chronological account (facts-timeline.ts): what the synthesis and the template caption tell. */
  story: Storyline;
}

/** A tempo estimate under this confidence is not reported. */
export const MIN_TEMPO_CONFIDENCE = 0.5;

export type OkRound = Extract<DetectiveRound, { status: 'ok' }>;

/** Whisper reports the language as an ISO 639-1 code (or a few longer ones, e.g. "haw"); its English name, or the code when unknown. */
export function languageName(code: string): string {
  try {
    const name = new Intl.DisplayNames(['en'], { type: 'language', fallback: 'none' }).of(code);
    return name ?? code;
  } catch (e) {
    if (e instanceof RangeError) return code; // not a well-formed language tag
    throw e;
  }
}

/** Below this detection probability the language is stated as "probably". */
export const SURE_LANGUAGE_PROBABILITY = 0.5;

/** " in English", " probably in German", or "" when no language is known. */
export function languageWords(d: Pick<AsrData, 'language' | 'languageProbability'>): string {
  if (d.language === undefined || d.language === null || d.language === '') return '';
  const sure = d.languageProbability === undefined || d.languageProbability === null || d.languageProbability >= SURE_LANGUAGE_PROBABILITY;
  return ` ${sure ? '' : 'probably '}in ${languageName(d.language)}`;
}

/**
 * What a VAD segment may be called. The VAD only tells speech from non-speech; its "music" label is a
 * spectral measurement (low flatness, persistent peaks: ../sound-class.ts), which a creaking door or
 * a bark gives as well as music, so it is worded as that measurement and never as music. Music and
 * instruments are named only from the sound-event observer.
 */
const CLASS_WORDS: Record<VadLabel, string> = {
  speech: 'speech',
  music: 'sound with a tonal spectrum',
  noise: 'sound',
  sound: 'sound',
  silence: 'silence',
};

const s1 = (t: number): string => t.toFixed(1);

function sentence(s: string): string {
  const t = s.trim().replace(/\s+/g, ' ');
  return /[.!?"]$/.test(t) ? t : `${t}.`;
}

export function describeClip(facts: ClipFacts): string {
  const streams = facts.hasAudio && facts.hasVideo ? 'a video with sound' : facts.hasVideo ? 'a video without an audio stream' : 'an audio recording';
  const dur = facts.durationSeconds !== undefined && Number.isFinite(facts.durationSeconds) ? ` lasting ${facts.durationSeconds.toFixed(1)} seconds` : '';
  return `The clip is ${streams}${dur}.`;
}

export interface VadData {
  segments: Array<{ label: VadLabel; start: number; end: number }>;
  totals: Record<VadLabel, number>;
}

export function isVadData(d: unknown): d is VadData {
  const v = d as Partial<VadData> | undefined;
  return Array.isArray(v?.segments) && typeof v?.totals === 'object' && v.totals !== null;
}

/** Sound-event classes a voice over which is singing, not speech. */
const SUNG: ReadonlySet<string> = new Set(['singing']);
/** Sound-event classes and families of music: a voice over them may be singing as well as speech. */
const MUSICAL: ReadonlySet<string> = new Set(['music', ...SOUND_LABELS.filter((l) => l.family === 'music').map((l) => l.id)]);

type TimedEvent = SoundEventData['events'][number];

/** Whether a sound event of a class in `ids` overlaps [start, end). */
function overlapsEvent(events: readonly TimedEvent[], ids: ReadonlySet<string>, start: number, end: number): boolean {
  return events.some((e) => ids.has(e.label) && e.start < end && e.end > start);
}

/**
 * A VAD segment's words: speech under a sound event of singing is a voice like singing, under music
 * a voice that may be speech or singing (Silero fires on both); the rest per CLASS_WORDS.
 */
function segmentWord(s: VadData['segments'][number], events: readonly TimedEvent[]): string {
  if (s.label === 'speech' && overlapsEvent(events, SUNG, s.start, s.end)) return 'voice like singing';
  if (s.label === 'speech' && overlapsEvent(events, MUSICAL, s.start, s.end)) return 'voice (speech or singing)';
  return CLASS_WORDS[s.label] ?? 'sound';
}

/** Segments whose span shows at 0.1 s (the rest are dropped, see spanShows). */
function shownSegments(d: VadData): VadData['segments'] {
  return d.segments.filter((s) => spanShows(s.start, s.end));
}

/** Totals are summed per kind: speech, sound (tonal or not), silence. */
const TOTAL_WORDS: Record<string, string> = { 'sound with a tonal spectrum': 'sound' };

/**
 * The VAD's segments over time, in words a VAD supports: speech (a voice like singing where the
 * sound-event observer named singing), sound (with a tonal spectrum where that was measured), silence.
 */
export function vadFact(d: VadData, events: readonly TimedEvent[] = []): string {
  const segs = shownSegments(d);
  const spans = segs.slice(0, 30).map((s) => `${segmentWord(s, events)} from ${s1(s.start)} to ${s1(s.end)} s`);
  const sums = new Map<string, number>();
  for (const s of segs) {
    const w = segmentWord(s, events);
    const k = TOTAL_WORDS[w] ?? w;
    sums.set(k, (sums.get(k) ?? 0) + (s.end - s.start));
  }
  const order = ['speech', 'voice like singing', 'voice (speech or singing)', 'sound', 'silence'];
  const totals = order.filter((w) => (sums.get(w) ?? 0) >= 0.05).map((w) => `${w} ${s1(sums.get(w) ?? 0)} s`);
  if (spans.length === 0) return 'No sound segments were found.';
  const more = segs.length > 30 ? `, and ${segs.length - 30} more segments` : '';
  const first = spans[0].charAt(0).toUpperCase() + spans[0].slice(1);
  const inAll = spans.length > 1 ? ` (${totals.join(' and ')} in all)` : '';
  return `${[first, ...spans.slice(1)].join(', then ')}${more}${inAll}.`;
}

export function isSoundEventData(d: unknown): d is SoundEventData {
  const e = d as Partial<SoundEventData> | undefined;
  return Array.isArray(e?.events) && Array.isArray(e?.windows);
}

/** Steady noise as measured: "steady broadband noise (a hiss or rush) from 0.0 to 1.4 s". */
function steadyNoiseWords(n: { start: number; end: number }): string {
  return `steady broadband noise (a hiss or rush) from ${s1(n.start)} to ${s1(n.end)} s`;
}

/** What the steady-noise measurement means, said once after its spans. */
const STEADY_NOISE_BASIS = 'measured as a broad spectrum that does not change, which names no source';

/**
 * Sound events in hedged words, with their spans: "a sound like a dog barking from 0.2 to 1.8 s";
 * stretches measured as steady broadband noise (../steady-noise.ts) are told as that measurement.
 */
export function soundEventFact(d: Pick<SoundEventData, 'events' | 'steadyNoise'>): string {
  const noise = d.steadyNoise ?? [];
  const noiseLine = noise.length === 0 ? '' : `${noise.map(steadyNoiseWords).join(', then ').replace(/^s/, 'S')} (${STEADY_NOISE_BASIS}).`;
  if (d.events.length === 0) return noise.length === 0 ? 'No particular sound event could be named.' : `${noiseLine} No particular sound event could be named.`;
  const when = (e: SoundEventData['events'][number]): string => (e.end - e.start < 0.15 ? `at ${s1(e.start)} s` : `from ${s1(e.start)} to ${s1(e.end)} s`);
  const [first, ...rest] = d.events;
  const named = `A sound like ${first.words} is heard ${when(first)}${rest.map((e) => `, then a sound like ${e.words} ${when(e)}`).join('')}.`;
  return noise.length === 0 ? named : `${named} ${noiseLine}`;
}

const VAD_SENTENCE: Record<string, (span: string) => string> = {
  speech: (t) => `${t} speech is heard.`,
  'voice like singing': (t) => `${t} a voice is heard; the sound events name it singing.`,
  'voice (speech or singing)': (t) => `${t} a voice is heard with the music; it may be speech or singing.`,
  'sound with a tonal spectrum': (t) => `${t} a sound is heard whose spectrum measures tonal (steady pitched partials).`,
  sound: (t) => `${t} a sound is heard.`,
  silence: (t) => `${t} there is silence.`,
};

/** The VAD's segments as storyline events ("From 0.0 to 0.3 s a sound is heard."), at most 30; its speech segments apart (told only where no transcript covers them). */
function vadEvents(d: VadData, events: readonly TimedEvent[], at: { round: number; tool: string }): { other: StoryEvent[]; speech: StoryEvent[] } {
  const out = { other: [] as StoryEvent[], speech: [] as StoryEvent[] };
  for (const seg of shownSegments(d).slice(0, 30)) {
    const word = segmentWord(seg, events);
    const span = `From ${s1(seg.start)} to ${s1(seg.end)} s`;
    const ev: StoryEvent = { start: seg.start, end: seg.end, stream: 'sound', text: (VAD_SENTENCE[word] ?? ((t: string) => `${t} a sound is heard.`))(span), ...at };
    (seg.label === 'speech' ? out.speech : out.other).push(ev);
  }
  return out;
}

/** Sound events as storyline events ("From 0.2 to 1.8 s a sound like a dog barking is heard."), and the measured steady noise. */
function soundEventEvents(d: Pick<SoundEventData, 'events' | 'steadyNoise'>, at: { round: number; tool: string }): StoryEvent[] {
  const named = d.events.map((e): StoryEvent => ({
    start: e.start,
    end: e.end,
    stream: 'sound',
    text: e.end - e.start < 0.15 ? `At ${s1(e.start)} s a sound like ${e.words} is heard.` : `From ${s1(e.start)} to ${s1(e.end)} s a sound like ${e.words} is heard.`,
    ...at,
  }));
  const noise = (d.steadyNoise ?? []).map((n): StoryEvent => ({
    start: n.start,
    end: n.end,
    stream: 'sound',
    text: `From ${s1(n.start)} to ${s1(n.end)} s steady broadband noise (a hiss or rush) is heard (${STEADY_NOISE_BASIS}).`,
    ...at,
  }));
  return [...named, ...noise];
}

/**
 * Confident speech as storyline events: consecutive segments stay one quote until something else
 * (a shot, on-screen text, a sound event) starts between them, so the account can interleave them.
 */
function speechEvents(reliable: readonly AsrSegment[], others: readonly StoryEvent[], lead: string, cap: (t: string) => string, at: { round: number; tool: string }, events: readonly TimedEvent[]): StoryEvent[] {
  const runs: AsrSegment[][] = [];
  for (const seg of reliable) {
    const run = runs[runs.length - 1];
    const prev = run?.[run.length - 1];
    if (run !== undefined && prev !== undefined && !others.some((o) => o.start > prev.start && o.start <= seg.start)) run.push(seg);
    else runs.push([seg]);
  }
  return runs.map((run, i): StoryEvent => {
    const text = run.map((x) => x.text.trim()).join(' ');
    const start = run[0].start;
    const end = run[run.length - 1].end;
    return { start, end, stream: 'speech', text: sentence(`From ${s1(start)} to ${s1(end)} s ${i === 0 ? lead : `a voice ${voiceVerb(run, events)}`}: "${cap(text)}"`), ...at };
  });
}

export function isAsrData(d: unknown): d is AsrData {
  const a = d as Partial<AsrData> | undefined;
  return Array.isArray(a?.segments) && typeof a?.engine === 'string';
}

/** Segments inside the clip, split into those confident enough to quote and the rest. */
export function splitSegments(d: AsrData): { reliable: AsrSegment[]; unreliable: AsrSegment[] } {
  const inside = d.segments.filter((s) => s.end > s.start && s.text.trim() !== '');
  const ok = (s: AsrSegment): boolean => s.confidence === null || s.confidence >= MIN_TRANSCRIPT_CONFIDENCE;
  return { reliable: inside.filter(ok), unreliable: inside.filter((s) => !ok(s)) };
}

/** `telephone`: the signal observer measured a narrow band (the voice is then called telephone-quality). */
interface AsrFacts {
  lines: string[];
  transcript?: string;
  unreliable?: string;
  /** For the storyline: the confident segments, the words that lead the first quote, the unclear speech as one timed sentence, or the line saying no speech was made out. */
  reliable: AsrSegment[];
  lead: string;
  unclear?: { start: number; end: number; text: string };
  none?: string;
}

/**
 * "sings" where the sound-event observer named singing over every segment; "sings or says" where it
 * named singing over some, or music over any (a voice over music may be either); else "says".
 */
export function voiceVerb(segments: ReadonlyArray<Pick<AsrSegment, 'start' | 'end'>>, events: readonly TimedEvent[]): string {
  const sung = segments.filter((s) => overlapsEvent(events, SUNG, s.start, s.end)).length;
  if (sung > 0 && sung === segments.length) return 'sings';
  return sung > 0 || segments.some((s) => overlapsEvent(events, MUSICAL, s.start, s.end)) ? 'sings or says' : 'says';
}

/**
 * Whether every voice the observers heard (VAD speech segments, recognised segments) lies under a
 * sound event of singing: a caption must then not call it speech.
 */
export function voiceIsSung(ok: readonly OkRound[]): boolean {
  const events = ok.flatMap((r) => (r.tool === 'sound_events' && isSoundEventData(r.data) ? r.data.events : []));
  const voices = ok.flatMap((r): Array<{ start: number; end: number }> => {
    if (r.tool === 'vad' && isVadData(r.data)) return r.data.segments.filter((x) => x.label === 'speech');
    if (r.tool === 'asr' && isAsrData(r.data)) return r.data.segments.filter((x) => x.end > x.start && x.text.trim() !== '');
    return [];
  });
  return voices.length > 0 && voices.every((v) => overlapsEvent(events, SUNG, v.start, v.end));
}

function asrFacts(d: AsrData, cap: (t: string) => string, telephone: boolean, events: readonly TimedEvent[]): AsrFacts {
  const { reliable, unreliable } = splitSegments(d);
  const lines: string[] = [];
  const transcript = reliable.map((s) => s.text.trim()).join(' ').trim();
  const lead = `a ${telephone ? 'telephone-quality ' : ''}voice ${voiceVerb(reliable, events)}${languageWords(d)}`;
  if (transcript !== '') {
    const span = `${s1(reliable[0].start)} to ${s1(reliable[reliable.length - 1].end)} s`;
    lines.push(`From ${span} ${lead}: "${cap(transcript)}"`);
  }
  let unclear: AsrFacts['unclear'];
  if (unreliable.length > 0) {
    const seconds = unreliable.reduce((a, s) => a + (s.end - s.start), 0);
    const conf = unreliable.reduce((a, s) => a + (s.confidence ?? 0) * (s.end - s.start), 0) / Math.max(1e-9, seconds);
    const text = `From ${s1(unreliable[0].start)} to ${s1(unreliable[unreliable.length - 1].end)} s, ${transcript === '' ? '' : 'a further '}${s1(seconds)} s of voice-like sound cannot be made out as words (recognition confidence ${conf.toFixed(2)}); it may be singing, chanting, another language or unclear speech.`;
    lines.push(text);
    unclear = { start: unreliable[0].start, end: unreliable[unreliable.length - 1].end, text };
  }
  let none: string | undefined;
  if (lines.length === 0) {
    none = d.speech.length === 0 ? 'No speech is heard.' : 'There is voice activity, but no words could be recognized.';
    lines.push(none);
  }
  return {
    lines,
    reliable,
    lead,
    ...(transcript !== '' ? { transcript } : {}),
    ...(unreliable.length > 0 ? { unreliable: unreliable.map((s) => s.text).join(' ') } : {}),
    ...(unclear !== undefined ? { unclear } : {}),
    ...(none !== undefined ? { none } : {}),
  };
}

/** A transcript from an observer without segment data (`{ transcript }` or `{ segments: [{ text }] }`): quoted as is. */
export function plainTranscript(d: unknown): string | undefined {
  const t = d as { transcript?: unknown; segments?: Array<{ text?: unknown }> } | undefined;
  if (typeof t?.transcript === 'string') return t.transcript.trim() || undefined;
  if (Array.isArray(t?.segments)) return t.segments.map((s) => (typeof s?.text === 'string' ? s.text.trim() : '')).filter((s) => s !== '').join(' ') || undefined;
  return undefined;
}

// every field the signal facts read (a report written by an older version lacks some: its answer text is used)
const SIGNAL_FIELDS = ['integratedLufs', 'truePeakDbtp', 'clippingRatio', 'snrDb', 'quietFrames', 'bandEdgeHz', 'silenceRatio', 'tempoBpm'] as const;
export function isSignalReport(d: unknown): d is SignalReport {
  return isRecord(d) && typeof d.durationSeconds === 'number' && SIGNAL_FIELDS.every((k) => k in d);
}

/** Integrated loudness in words: under -35 LUFS very quiet, under -25 quiet, under -14 moderately loud, else loud. */
export function loudnessWord(lufs: number): string {
  if (lufs < -35) return 'very quiet';
  if (lufs < -25) return 'quiet';
  if (lufs < -14) return 'moderately loud';
  return 'loud';
}

/**
 * The SNR estimate (loud frames over the quietest) in words. Under 8 dB the level hardly moves, which
 * a continuous sound (crickets, an engine) gives as well as strong noise: the words say only that.
 */
export function noiseWord(snr: number): string {
  if (snr >= 30) return 'clean, with no audible background noise';
  if (snr >= 18) return 'fairly clean, with little background noise';
  if (snr >= 8) return 'has noticeable background noise';
  return 'even in level throughout, its quietest parts almost as loud as its loudest (a continuous sound or strong background noise)';
}

const signed = (x: number): string => `${x > 0 ? '+' : ''}${x.toFixed(1)}`;

/** Clipping in words: any clipped sample, or a true peak over 0 dBTP, is stated; "no clipping" only when neither was measured. */
export function clippingWords(r: Pick<SignalReport, 'clippingRatio' | 'truePeakDbtp'>): { word?: string; number?: string } {
  if (r.clippingRatio >= 0.001) return { word: `clipped in ${percentOf(r.clippingRatio)} of samples (audible distortion)` };
  if (r.clippingRatio > 0) return { word: `with some clipped peaks (${percentOf(r.clippingRatio)} of samples at full scale)` };
  if (r.truePeakDbtp !== null && r.truePeakDbtp > 0) return { word: `with peaks over full scale between samples (true peak ${signed(r.truePeakDbtp)} dBTP), which can clip on playback` };
  return { number: 'no clipping' };
}

/** A band edge (Hz) in kHz words, e.g. "3.9 kHz". */
const kHz = (hz: number): string => `${(hz / 1000).toFixed(1)} kHz`;

/** True when the clip has nothing above NARROW_BAND_MAX_HZ: a telephone line or an 8 kHz recording. */
export function isNarrowBand(r: Pick<SignalReport, 'bandEdgeHz'>): boolean {
  return r.bandEdgeHz !== null && r.bandEdgeHz <= NARROW_BAND_MAX_HZ;
}

/** The signal line. `speech`: whether a voice was heard (narrow-band speech is called telephone-quality). */
export function signalFact(r: SignalReport, speech = false): string {
  const words: string[] = [];
  const numbers: string[] = [];
  if (r.integratedLufs === null) {
    // BS.1770 loudness needs a 400 ms block: a shorter sound has none, and is not silence
    if (r.samplePeakDbfs !== null && r.samplePeakDbfs > DIGITAL_SILENCE_DBFS) return `The sound is too short for its loudness to be measured (under 0.4 s; sample peak ${r.samplePeakDbfs.toFixed(1)} dBFS).`;
    return 'The audio is digital silence.';
  }
  words.push(loudnessWord(r.integratedLufs));
  numbers.push(`integrated loudness ${r.integratedLufs.toFixed(1)} LUFS`);
  if (r.noiseFloorDbfs !== null && r.noiseFloorDbfs < DIGITAL_SILENCE_DBFS) {
    // a noise floor of digital zeros: the SNR (peak over floor) would read 200+ dB and means nothing
    words.push('clean, with digital silence in its pauses');
  } else if (quietPartsFade(r) && r.quietFrames !== null) {
    // the quietest frames are a tail dying away: the SNR estimate measures the decay, not noise
    const rate = Math.abs(r.quietFrames.slopeDbPerSecond);
    words.push(`with a fading tail (its quietest parts are the sound dying away at about ${rate.toFixed(0)} dB per second, not background noise)`);
    numbers.push(`decay about ${rate.toFixed(0)} dB/s`);
  } else {
    if (r.snrDb !== null) {
      words.push(noiseWord(r.snrDb));
      numbers.push(`SNR about ${r.snrDb.toFixed(0)} dB`);
    }
    if (r.noiseFloorDbfs !== null) numbers.push(`noise floor ${r.noiseFloorDbfs.toFixed(1)} dBFS`);
  }
  if (r.truePeakDbtp !== null) numbers.push(`true peak ${signed(r.truePeakDbtp)} dBTP`);
  const clip = clippingWords(r);
  if (clip.word !== undefined) words.push(clip.word);
  if (clip.number !== undefined) numbers.push(clip.number);
  if (isNarrowBand(r) && r.bandEdgeHz !== null) {
    words.push(speech ? `telephone-quality (narrow-band, nothing above about ${kHz(r.bandEdgeHz)})` : `narrow-band (nothing above about ${kHz(r.bandEdgeHz)})`);
    numbers.push(`band edge ${kHz(r.bandEdgeHz)}`);
  }
  if (r.tempoBpm !== null && r.tempoConfidence >= MIN_TEMPO_CONFIDENCE) words.push(`with a steady beat at about ${r.tempoBpm.toFixed(0)} BPM`);
  const said = words.length === 1 ? words[0] : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
  return `The sound is ${said} (${numbers.join(', ')}).`;
}

const ORDER = ['vad', 'sound_events', 'asr', 'captioner', 'audio_lm', 'video', 'vlm', 'ocr', 'signal'];
const LABEL: Record<string, string> = {
  vad: 'Sound segments',
  sound_events: 'Sound events',
  asr: 'Speech',
  captioner: 'Audio description (captioner model)',
  audio_lm: 'Audio-language model',
  video: 'Picture',
  vlm: 'Vision model',
  ocr: 'On-screen text (seen in the picture, not heard)',
  signal: 'Signal measurements',
};

/** Whether a voice was heard: the recognizer returned segments or the VAD found half a second of speech. */
export function voiceHeard(ok: readonly OkRound[]): boolean {
  return ok.some(
    (r) =>
      (r.tool === 'asr' && ((isAsrData(r.data) && r.data.segments.length > 0) || (!isAsrData(r.data) && plainTranscript(r.data) !== undefined))) ||
      (r.tool === 'vad' && isVadData(r.data) && (r.data.totals.speech ?? 0) >= 0.5),
  );
}

/** `cap` shortens long texts (the LLM's copy of the facts stays within its context). */
export function factSheet(rounds: readonly DetectiveRound[], facts: ClipFacts, cap: (text: string) => string = (t) => t): FactSheet {
  const ok = rounds.filter((r): r is OkRound => r.status === 'ok');
  const story: Storyline = { head: [{ stream: 'clip', text: describeClip(facts), round: 0, tool: 'media' }], events: [], tail: [] };
  const sheet: FactSheet = { lines: [describeClip(facts)], onScreenText: [], screenFragments: [], story };
  const seen = new Set<string>();
  const rank = (tool: string): number => (ORDER.includes(tool) ? ORDER.indexOf(tool) : ORDER.length);
  const signalReport = ok.find((r) => r.tool === 'signal' && isSignalReport(r.data))?.data as SignalReport | undefined;
  const speech = voiceHeard(ok);
  const soundEvents = ok.flatMap((r) => (r.tool === 'sound_events' && isSoundEventData(r.data) ? r.data.events : []));
  const events: StoryEvent[] = [];
  const vadSpeech: StoryEvent[] = [];
  let spoken: { a: AsrFacts; at: { round: number; tool: string } } | undefined;
  for (const r of [...ok].sort((a, b) => rank(a.tool) - rank(b.tool) || a.round - b.round)) {
    const key = `${r.tool}\u0000${r.answer}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const at = { round: r.round, tool: r.tool };
    if (r.tool === 'vad' && isVadData(r.data)) {
      sheet.lines.push(vadFact(r.data, soundEvents));
      const v = vadEvents(r.data, soundEvents, at);
      events.push(...v.other);
      vadSpeech.push(...v.speech);
    } else if (r.tool === 'sound_events' && isSoundEventData(r.data)) {
      sheet.lines.push(soundEventFact(r.data));
      const e = soundEventEvents(r.data, at);
      events.push(...e);
      // a clip whose every stretch of sound is speech says nothing more about sound events
      const allSpeech = r.data.windows.length > 0 && r.data.windows.every((w) => w.abstained === 'speech');
      if (r.data.events.length === 0 && !allSpeech) story.tail.push({ stream: 'sound', text: 'No particular sound event could be named.', ...at });
    } else if (r.tool === 'asr' && (isAsrData(r.data) || plainTranscript(r.data) !== undefined)) {
      if (sheet.transcript !== undefined || sheet.unreliableSpeech !== undefined) continue; // the first ASR answer is the transcript
      const plain = isAsrData(r.data) ? undefined : plainTranscript(r.data);
      if (plain !== undefined) {
        const line = `A voice says: "${cap(plain)}"`;
        sheet.lines.push(line);
        story.tail.push({ stream: 'speech', text: line, ...at });
        sheet.transcript = plain;
        continue;
      }
      const a = asrFacts(r.data as AsrData, cap, signalReport !== undefined && isNarrowBand(signalReport), soundEvents);
      sheet.lines.push(...a.lines);
      if (a.transcript !== undefined) sheet.transcript = a.transcript;
      if (a.unreliable !== undefined) sheet.unreliableSpeech = a.unreliable;
      spoken = { a, at };
    } else if (r.tool === 'ocr' && isOcrData(r.data)) {
      const screen = screenFacts(r.data, cap, at);
      sheet.lines.push(screen.line);
      sheet.onScreenText.push(...screen.carry);
      sheet.screenFragments.push(...screen.fragments);
      events.push(...screen.events);
      if (screen.events.length === 0) story.tail.push({ stream: 'on-screen text', text: screen.line, ...at });
      if (screen.untold !== undefined) story.tail.push({ stream: 'on-screen text', text: screen.untold, ...at });
    } else if (r.tool === 'video' && isVideoData(r.data)) {
      sheet.lines.push(...pictureFacts(r.data));
      story.head.push({ stream: 'picture', text: pictureFormat(r.data), ...at });
      events.push(...pictureEvents(r.data, r.round, r.tool));
      story.tail.push(...r.data.notes.map((text) => ({ stream: 'picture' as const, text, ...at })));
    } else if (r.tool === 'vlm' && isVlmData(r.data)) {
      const line = vlmFact({ ...r.data, said: cap(r.data.said) });
      sheet.lines.push(line);
      story.tail.push({ stream: 'picture', text: line, ...at });
    } else if (r.tool === 'signal' && isSignalReport(r.data)) {
      const line = signalFact(r.data, speech);
      sheet.lines.push(line);
      story.tail.push({ stream: 'sound', text: line, ...at });
    } else {
      const line = `${LABEL[r.tool] ?? r.tool}: ${sentence(cap(r.answer))}`;
      sheet.lines.push(line);
      story.tail.push({ stream: 'clip', text: line, ...at });
    }
  }
  if (spoken !== undefined) {
    const { a, at } = spoken;
    const said = speechEvents(a.reliable, events, a.lead, cap, at, soundEvents);
    if (a.unclear !== undefined) said.push({ ...a.unclear, stream: 'speech', ...at });
    if (a.none !== undefined) story.tail.push({ stream: 'speech', text: a.none, ...at });
    events.push(...said);
    // VAD speech is told only where no recognised or unclear speech covers it
    events.push(...vadSpeech.filter((v) => !said.some((s) => s.start < v.end && s.end > v.start)));
  } else events.push(...vadSpeech);
  story.events = orderEvents(events);
  if (ok.length === 0) {
    sheet.lines.push('No observer returned information about it.');
    story.head.push({ stream: 'clip', text: 'No observer returned information about it.', round: 0, tool: 'media' });
  }
  return sheet;
}
