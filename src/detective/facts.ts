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
import type { AsrData, AsrSegment } from './observers/asr';
import { isVideoData, pictureFacts } from './facts-picture';
import { isOcrData, screenFacts } from './facts-screen';
import type { SignalReport } from './signal';
import type { DetectiveRound } from './types';
import type { VadLabel } from './observers/vad';

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
}

/** Whisper's own floor: a decode whose mean token log-probability is under -1 is not trusted. */
export const MIN_TRANSCRIPT_CONFIDENCE = Math.exp(-1);
/** A noise floor below this is digital silence (no recorded noise at all), not a measurable floor. */
const DIGITAL_SILENCE_DBFS = -90;
/** A tempo estimate under this confidence is not reported. */
export const MIN_TEMPO_CONFIDENCE = 0.5;

type OkRound = Extract<DetectiveRound, { status: 'ok' }>;

const LANGUAGES: Record<string, string> = {
  en: 'English', de: 'German', fr: 'French', es: 'Spanish', it: 'Italian', pt: 'Portuguese', nl: 'Dutch', ru: 'Russian',
  zh: 'Chinese', ja: 'Japanese', ko: 'Korean', ar: 'Arabic', hi: 'Hindi', tr: 'Turkish', pl: 'Polish', sv: 'Swedish',
};

const CLASS_WORDS: Record<VadLabel, string> = {
  speech: 'speech',
  music: 'music or tonal sound',
  noise: 'noise',
  sound: 'other sound',
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

interface VadData {
  segments: Array<{ label: VadLabel; start: number; end: number }>;
  totals: Record<VadLabel, number>;
}

function isVadData(d: unknown): d is VadData {
  const v = d as Partial<VadData> | undefined;
  return Array.isArray(v?.segments) && typeof v?.totals === 'object' && v.totals !== null;
}

function vadFact(d: VadData): string {
  const spans = d.segments.slice(0, 30).map((s) => `${CLASS_WORDS[s.label] ?? s.label} from ${s1(s.start)} to ${s1(s.end)} s`);
  const totals = (Object.keys(CLASS_WORDS) as VadLabel[]).filter((k) => (d.totals[k] ?? 0) >= 0.05).map((k) => `${CLASS_WORDS[k]} ${s1(d.totals[k])} s`);
  if (spans.length === 0) return 'No sound segments were found.';
  const more = d.segments.length > 30 ? `, and ${d.segments.length - 30} more segments` : '';
  const first = spans[0].charAt(0).toUpperCase() + spans[0].slice(1);
  const inAll = spans.length > 1 ? ` (${totals.join(' and ')} in all)` : '';
  return `${[first, ...spans.slice(1)].join(', then ')}${more}${inAll}.`;
}

function isAsrData(d: unknown): d is AsrData {
  const a = d as Partial<AsrData> | undefined;
  return Array.isArray(a?.segments) && typeof a?.engine === 'string';
}

/** Segments inside the clip, split into those confident enough to quote and the rest. */
export function splitSegments(d: AsrData): { reliable: AsrSegment[]; unreliable: AsrSegment[] } {
  const inside = d.segments.filter((s) => s.end > s.start && s.text.trim() !== '');
  const ok = (s: AsrSegment): boolean => s.confidence === null || s.confidence >= MIN_TRANSCRIPT_CONFIDENCE;
  return { reliable: inside.filter(ok), unreliable: inside.filter((s) => !ok(s)) };
}

function asrFacts(d: AsrData, cap: (t: string) => string): { lines: string[]; transcript?: string; unreliable?: string } {
  const { reliable, unreliable } = splitSegments(d);
  const lines: string[] = [];
  const transcript = reliable.map((s) => s.text.trim()).join(' ').trim();
  const language = d.language !== undefined && d.language !== null && d.language !== 'en' ? LANGUAGES[d.language] ?? d.language : undefined;
  if (transcript !== '') {
    const span = `${s1(reliable[0].start)} to ${s1(reliable[reliable.length - 1].end)} s`;
    lines.push(`From ${span} a voice says${language !== undefined ? ` in ${language}` : ''}: "${cap(transcript)}"`);
  }
  if (unreliable.length > 0) {
    const seconds = unreliable.reduce((a, s) => a + (s.end - s.start), 0);
    const conf = unreliable.reduce((a, s) => a + (s.confidence ?? 0) * (s.end - s.start), 0) / Math.max(1e-9, seconds);
    lines.push(
      `From ${s1(unreliable[0].start)} to ${s1(unreliable[unreliable.length - 1].end)} s, ${transcript === '' ? '' : 'a further '}${s1(seconds)} s of voice-like sound cannot be made out as words (recognition confidence ${conf.toFixed(2)}); it may be singing, chanting, another language or unclear speech.`,
    );
  }
  if (lines.length === 0) lines.push(d.speech.length === 0 ? 'No speech is heard.' : 'There is voice activity, but no words could be recognized.');
  return { lines, ...(transcript !== '' ? { transcript } : {}), ...(unreliable.length > 0 ? { unreliable: unreliable.map((s) => s.text).join(' ') } : {}) };
}

/** A transcript from an observer without segment data (`{ transcript }` or `{ segments: [{ text }] }`): quoted as is. */
function plainTranscript(d: unknown): string | undefined {
  const t = d as { transcript?: unknown; segments?: Array<{ text?: unknown }> } | undefined;
  if (typeof t?.transcript === 'string') return t.transcript.trim() || undefined;
  if (Array.isArray(t?.segments)) return t.segments.map((s) => (typeof s?.text === 'string' ? s.text.trim() : '')).filter((s) => s !== '').join(' ') || undefined;
  return undefined;
}

function isSignalReport(d: unknown): d is SignalReport {
  return typeof (d as Partial<SignalReport> | undefined)?.durationSeconds === 'number' && 'integratedLufs' in (d as object);
}

function loudnessWord(lufs: number): string {
  if (lufs < -35) return 'very quiet';
  if (lufs < -25) return 'quiet';
  if (lufs < -14) return 'moderately loud';
  return 'loud';
}

function noiseWord(snr: number): string {
  if (snr >= 30) return 'clean, with no audible background noise';
  if (snr >= 18) return 'fairly clean, with little background noise';
  if (snr >= 8) return 'has noticeable background noise';
  return 'noisy throughout, its quietest parts almost as loud as its loudest';
}

function signalFact(r: SignalReport): string {
  const words: string[] = [];
  const numbers: string[] = [];
  if (r.integratedLufs === null) return 'The audio is digital silence.';
  words.push(loudnessWord(r.integratedLufs));
  numbers.push(`integrated loudness ${r.integratedLufs.toFixed(1)} LUFS`);
  if (r.noiseFloorDbfs !== null && r.noiseFloorDbfs < DIGITAL_SILENCE_DBFS) {
    // a noise floor of digital zeros: the SNR (peak over floor) would read 200+ dB and means nothing
    words.push('clean, with digital silence in its pauses');
  } else {
    if (r.snrDb !== null) {
      words.push(noiseWord(r.snrDb));
      numbers.push(`SNR about ${r.snrDb.toFixed(0)} dB`);
    }
    if (r.noiseFloorDbfs !== null) numbers.push(`noise floor ${r.noiseFloorDbfs.toFixed(1)} dBFS`);
  }
  if (r.truePeakDbtp !== null) numbers.push(`true peak ${r.truePeakDbtp.toFixed(1)} dBTP`);
  if (r.clippingRatio >= 0.001) words.push(`clipped in ${(r.clippingRatio * 100).toFixed(1)} % of samples (audible distortion)`);
  else numbers.push('no clipping');
  if (r.tempoBpm !== null && r.tempoConfidence >= MIN_TEMPO_CONFIDENCE) words.push(`with a steady beat at about ${r.tempoBpm.toFixed(0)} BPM`);
  const said = words.length === 1 ? words[0] : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]}`;
  return `The sound is ${said} (${numbers.join(', ')}).`;
}

const ORDER = ['vad', 'asr', 'captioner', 'audio_lm', 'video', 'ocr', 'signal'];
const LABEL: Record<string, string> = {
  vad: 'Sound segments',
  asr: 'Speech',
  captioner: 'Audio description (captioner model)',
  audio_lm: 'Audio-language model',
  video: 'Picture',
  ocr: 'On-screen text (seen in the picture, not heard)',
  signal: 'Signal measurements',
};

/** `cap` shortens long texts (the LLM's copy of the facts stays within its context). */
export function factSheet(rounds: readonly DetectiveRound[], facts: ClipFacts, cap: (text: string) => string = (t) => t): FactSheet {
  const ok = rounds.filter((r): r is OkRound => r.status === 'ok');
  const sheet: FactSheet = { lines: [describeClip(facts)], onScreenText: [], screenFragments: [] };
  const seen = new Set<string>();
  const rank = (tool: string): number => (ORDER.includes(tool) ? ORDER.indexOf(tool) : ORDER.length);
  for (const r of [...ok].sort((a, b) => rank(a.tool) - rank(b.tool) || a.round - b.round)) {
    const key = `${r.tool}\u0000${r.answer}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (r.tool === 'vad' && isVadData(r.data)) sheet.lines.push(vadFact(r.data));
    else if (r.tool === 'asr' && (isAsrData(r.data) || plainTranscript(r.data) !== undefined)) {
      if (sheet.transcript !== undefined || sheet.unreliableSpeech !== undefined) continue; // the first ASR answer is the transcript
      const plain = isAsrData(r.data) ? undefined : plainTranscript(r.data);
      const a = plain !== undefined ? { lines: [`A voice says: "${cap(plain)}"`], transcript: plain } : asrFacts(r.data as AsrData, cap);
      sheet.lines.push(...a.lines);
      if (a.transcript !== undefined) sheet.transcript = a.transcript;
      if ('unreliable' in a && a.unreliable !== undefined) sheet.unreliableSpeech = a.unreliable;
    } else if (r.tool === 'ocr' && isOcrData(r.data)) {
      const screen = screenFacts(r.data, cap);
      sheet.lines.push(screen.line);
      sheet.onScreenText.push(...screen.carry);
      sheet.screenFragments.push(...screen.fragments);
    } else if (r.tool === 'video' && isVideoData(r.data)) sheet.lines.push(...pictureFacts(r.data));
    else if (r.tool === 'signal' && isSignalReport(r.data)) sheet.lines.push(signalFact(r.data));
    else sheet.lines.push(`${LABEL[r.tool] ?? r.tool}: ${sentence(cap(r.answer))}`);
  }
  if (ok.length === 0) sheet.lines.push('No observer returned information about it.');
  return sheet;
}
