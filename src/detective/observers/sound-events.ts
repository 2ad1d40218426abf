/**
 * Sound-event observer: Whisper (the ASR model the project ships) as a zero-shot sound-event tagger.
 * Whisper learned from subtitles that describe sounds ("(dog barking)", "[door creaks]"), so the
 * log-probability its decoder gives such a label, force-decoded against a window of audio, says how
 * well the label fits the window (Ma et al., NAACL 2024). Raw scores mostly measure how likely a label
 * is as text, so each phrasing's score is calibrated by subtracting its prior: its mean score over a
 * reference set of everyday sounds (./sound-priors.ts; the silence/noise prior of the paper measured
 * worse here, see docs/benchmarks.md). A window states an event only when every phrasing slot of the
 * vocabulary picks the same class and the class clears a calibrated margin; otherwise it abstains.
 * Windows where Silero VAD hears speech need a larger margin, and speech-like labels never become
 * events (speech is the ASR observer's), so a telephone prompt does not turn into a dog. Scoring runs
 * in two stages to cut Whisper time: one phrasing of every class, then the other phrasings of a
 * shortlist of the best classes (scoreSoundWindows). A window measured as steady broadband noise
 * (../steady-noise.ts: a broad spectrum whose band levels do not change) states no class: Whisper
 * calls such noise rain or wind, and nothing in it is evidence of either; it is reported as steady
 * noise from the measurement.
 */
import { OmnicapError } from '../../errors';
import { throwIfAborted } from '../../util/abort';
import { measureNoise, type NoiseMeasure } from '../steady-noise';
import { MIN_TRANSCRIPT_CONFIDENCE } from './asr';
import { disposableObserver, type DisposableObserver } from './disposable';
import { needSamples } from './proc';
import { SOUND_FAMILY_WORDS, SOUND_LABELS, type SoundFamily, type SoundLabel } from './sound-labels';
import { SOUND_PRIORS } from './sound-priors';
import { defaultSileroPath, lazySilero } from './vad';
import { defaultWhisperModelDir, WhisperWorker, type WhisperModelName } from './whisper';

const FS = 16000;
const FRAME = 0.02;

export interface SoundWindow {
  /** Seconds: the stretch of sound the window covers (its audio is scored from `start`). */
  start: number;
  end: number;
  /**
   * Speech Whisper transcribed in it with the confidence under which a caption quotes speech
   * (a window of speech: the ASR observer's, not scored for sound events).
   */
  transcript?: string;
  /** Its broadness and steadiness (../steady-noise.ts); a steady broadband window states no class. */
  noise?: NoiseMeasure;
}

/** Settings of the window decision; the defaults were chosen on the tune split of the labelled set. */
export interface SoundDecisionOptions {
  /** A class's calibrated score (mean over its phrasings, log-probability units) must reach this. */
  minScore?: number;
  /** The same in windows that are mostly speech. */
  minSpeechScore?: number;
  /** Share of a window's VAD chunks heard as speech from which the window counts as speech. */
  speechShare?: number;
  /**
   * When no class is stated but the two best classes are of one family (two animals, two
   * instruments), the family is stated if the best class reaches this (minSpeechScore in speech windows).
   */
  minFamilyScore?: number;
  /** A class is stated only when it beats the second best class by this much (else its family may be). */
  minClassMargin?: number;
  /**
   * Windows of sound shorter than this (seconds) do not consider the sustained classes (applause,
   * typing, an engine: ./sound-labels.ts `sustained`); 0 considers them everywhere.
   */
  minSustainedSeconds?: number;
  /** A family is stated only when every phrasing slot's best class is of that family. */
  familyAgreement?: boolean;
  /** Families never stated as such (their classes still can be). */
  unstatedFamilies?: readonly SoundFamily[];
  /**
   * Whether a class's broader class (music for a drum) or a narrower one counts as the runner-up of
   * the class margin; when false, the margin is taken over the best class that is neither.
   */
  parentCompetes?: boolean;
}

export const SOUND_DECISION_DEFAULTS: Required<SoundDecisionOptions> = {
  minScore: 1.0,
  minSpeechScore: 2.0,
  speechShare: 0.5,
  minFamilyScore: 1.0,
  minClassMargin: 0.5,
  minSustainedSeconds: 1,
  familyAgreement: true,
  unstatedFamilies: ['human', 'water'],
  parentCompetes: false,
};

export interface SoundEventOptions extends SoundDecisionOptions, SoundScoringOptions {
  /** Whisper model (default 'base'); its calibration priors must be in ./sound-priors.ts (only base's are measured). */
  whisperModel?: WhisperModelName;
  whisperModelDir?: string;
  python?: string;
  threads?: number;
  /** Silero VAD model path (default models/cache/silero-vad/silero_vad.onnx). */
  vadModelPath?: string;
  /** Windows scored per clip at most (default 24): the loudest are kept. */
  maxWindows?: number;
  /** Transcribe the windows Silero VAD calls speech and leave those with quotable speech unscored (default true; markTranscribedSpeech). */
  transcribeSpeech?: boolean;
}

/** Seconds of audio context each window is encoded with (the priors were measured with it). */
export const SOUND_CONTEXT_SECONDS = 5;

/**
 * A window of sound shorter than this is repeated back to back until it spans it before it is padded
 * to the context (0: never). The priors were measured with it.
 */
export const SOUND_TILE_SECONDS = 0;

export interface ClassScore {
  id: string;
  words: string;
  score: number;
}

export interface SoundEvent {
  /** A class (id of ./sound-labels.ts) or, when only the family is sure, a family. */
  kind: 'class' | 'family';
  /** Class id or family name. */
  label: string;
  /** Plain words: "a dog barking", "an animal call". */
  words: string;
  start: number;
  end: number;
  /** Calibrated score of the class (log-probability over its prior; higher is surer). */
  score: number;
  /** The next best classes of the strongest window (for a family event, its best classes). */
  alternatives: ClassScore[];
}

export interface WindowDecision extends SoundWindow {
  /** Share of the window's VAD chunks heard as speech. */
  speech: number;
  /** Best three classes. */
  top: ClassScore[];
  /** Whether every phrasing slot ranked the top class first. */
  agreed: boolean;
  /** The class or family stated, or why none was. */
  stated?: { kind: 'class' | 'family'; label: string };
  abstained?: 'speech' | 'phrasings disagree' | 'below margin' | 'runner-up too close' | 'steady broadband noise';
}

/** A stretch of windows measured as steady broadband noise (consecutive ones merged). */
export interface SteadyNoiseSpan {
  start: number;
  end: number;
  /** The lowest broadness and the largest band-level spread (dB) of its windows. */
  broadness: number;
  spreadDb: number;
}

export interface SoundEventData {
  engine: string;
  events: SoundEvent[];
  windows: WindowDecision[];
  /** Windows of sound left unscored because the clip had more than maxWindows. */
  skippedWindows: number;
  /** Stretches measured as steady broadband noise (absent in data written before the measurement). */
  steadyNoise?: SteadyNoiseSpan[];
  settings: Required<SoundDecisionOptions> & Required<SoundScoringOptions> & { contextSeconds: number; tileSeconds: number; calibration: string };
  /** Seconds Whisper spent scoring, and the label sequences it decoded. */
  scoreSeconds: number;
  sequences: number;
}

/** Frame RMS levels (dBFS) of 20 ms frames. */
function frameLevels(samples: Float32Array): number[] {
  const n = Math.round(FRAME * FS);
  const out: number[] = [];
  for (let s = 0; s + n <= samples.length; s += n) {
    let e = 0;
    for (let i = s; i < s + n; i++) e += samples[i] * samples[i];
    out.push(10 * Math.log10(e / n + 1e-24));
  }
  return out;
}

/**
 * Stretches of sound to score: 20 ms frames within 35 dB of the clip's loudest frame (and above -50
 * dBFS), gaps under 0.3 s closed, stretches under 40 ms dropped, long ones cut into pieces of the
 * context length. At most `maxWindows`, the loudest kept (the rest counted in `skipped`).
 */
export function soundWindows(samples: Float32Array, contextSeconds = SOUND_CONTEXT_SECONDS, maxWindows = 24): { windows: SoundWindow[]; skipped: number } {
  const levels = frameLevels(samples);
  if (levels.length === 0) return { windows: [], skipped: 0 };
  const peak = Math.max(...levels);
  const gate = Math.max(-50, peak - 35);
  const runs: Array<[number, number]> = [];
  let start = -1;
  for (let i = 0; i <= levels.length; i++) {
    const on = i < levels.length && levels[i] >= gate;
    if (on && start < 0) start = i;
    if (!on && start >= 0) {
      const last = runs[runs.length - 1];
      if (last !== undefined && (start - last[1]) * FRAME < 0.3) last[1] = i;
      else runs.push([start, i]);
      start = -1;
    }
  }
  const windows: Array<SoundWindow & { level: number }> = [];
  const duration = samples.length / FS;
  for (const [a, b] of runs) {
    if ((b - a) * FRAME < 0.04) continue;
    for (let s = Math.max(0, a * FRAME - 0.05); s < b * FRAME; s += contextSeconds) {
      const e = Math.min(duration, b * FRAME + 0.05, s + contextSeconds);
      const f0 = Math.floor(s / FRAME), f1 = Math.ceil(e / FRAME);
      windows.push({ start: round2(s), end: round2(e), level: Math.max(...levels.slice(f0, Math.max(f0 + 1, f1))) });
    }
  }
  const kept = [...windows].sort((x, y) => y.level - x.level).slice(0, maxWindows);
  return { windows: kept.sort((x, y) => x.start - y.start).map(({ start, end }) => ({ start, end })), skipped: windows.length - kept.length };
}

const round2 = (x: number): number => Number(x.toFixed(2));

/** Phrasings in scoring order, with their class and slot (0, 1, 2: the first, second, third phrasing of each class). */
export function soundPhrasings(labels: readonly SoundLabel[] = SOUND_LABELS): Array<{ text: string; label: SoundLabel; slot: number }> {
  return labels.flatMap((label) => label.phrasings.map((p, slot) => ({ text: ` ${p}`, label, slot })));
}

/** A window's raw phrasing scores in soundPhrasings() order; null where the phrasing was not scored. */
export type RawScores = ReadonlyArray<number | null>;

/**
 * Class scores of one window from its phrasing scores minus their priors: a class scores the mean of
 * its scored phrasings. Classes with every phrasing scored rank before those with only some (after a
 * two-stage scoring, the shortlist before the rest); unscored classes are left out. `agreed` when each
 * phrasing slot, on its own, ranks the top class first among the classes scored in that slot;
 * `slotTops`: each slot's best class, by slot.
 */
export function classScores(raw: RawScores, prior: readonly number[], labels: readonly SoundLabel[] = SOUND_LABELS): { ranked: ClassScore[]; agreed: boolean; slotTops: string[] } {
  const phrasings = soundPhrasings(labels);
  if (raw.length !== phrasings.length || prior.length !== phrasings.length) throw new OmnicapError('INVALID_ARGUMENT', `expected ${phrasings.length} phrasing scores`);
  const sum = new Map<string, { n: number; s: number }>();
  const bestBySlot = new Map<number, { id: string; v: number }>();
  phrasings.forEach((p, i) => {
    const r = raw[i];
    if (r === null) return;
    const v = r - prior[i];
    const acc = sum.get(p.label.id) ?? { n: 0, s: 0 };
    sum.set(p.label.id, { n: acc.n + 1, s: acc.s + v });
    const b = bestBySlot.get(p.slot);
    if (b === undefined || v > b.v) bestBySlot.set(p.slot, { id: p.label.id, v });
  });
  const full = (l: SoundLabel): boolean => sum.get(l.id)?.n === l.phrasings.length;
  const ranked = labels
    .filter((l) => sum.has(l.id))
    .map((l) => ({ l, c: { id: l.id, words: l.words, score: Number(((sum.get(l.id)?.s ?? 0) / (sum.get(l.id)?.n ?? 1)).toFixed(3)) } }))
    .sort((a, b) => Number(full(b.l)) - Number(full(a.l)) || b.c.score - a.c.score)
    .map((x) => x.c);
  const agreed = ranked.length > 0 && [...bestBySlot.values()].every((b) => b.id === ranked[0].id);
  return { ranked, agreed, slotTops: [...bestBySlot.entries()].sort((x, y) => x[0] - y[0]).map(([, b]) => b.id) };
}

/** How the phrasings are scored: every phrasing of every class, or in two stages. */
export interface SoundScoringOptions {
  /**
   * Two-stage scoring: the first stage scores one phrasing (slot `firstSlot`) of every class, the
   * second the other phrasings of the `shortlist` classes that scored best in the first. 0 scores every
   * phrasing in one stage.
   */
  shortlist?: number;
  /** The phrasing slot of the first stage. */
  firstSlot?: number;
  /** Windows whose share of speech chunks reaches this are not scored at all (speech only; above 1: every window is scored). */
  skipSpeechShare?: number;
}

export const SOUND_SCORING_DEFAULTS: Required<SoundScoringOptions> = { shortlist: 6, firstSlot: 0, skipSpeechShare: 2 };

/** Scores `labels` (phrasing texts) in `windows`; with `subsets`, per window only the labels of those indices, in that order. */
export type LabelScorer = (windows: readonly SoundWindow[], labels: readonly string[], subsets?: ReadonlyArray<readonly number[]>) => Promise<{ scores: number[][]; seconds: number }>;

/** The first-stage shortlist of a window: the `n` classes whose first-stage phrasing scores best over its prior. */
export function shortlistClasses(raw: RawScores, prior: readonly number[], n: number, firstSlot: number, labels: readonly SoundLabel[] = SOUND_LABELS): string[] {
  const out: Array<{ id: string; v: number }> = [];
  soundPhrasings(labels).forEach((p, i) => {
    const r = raw[i];
    if (p.slot === firstSlot && r !== null) out.push({ id: p.label.id, v: r - prior[i] });
  });
  return out.sort((a, b) => b.v - a.v).slice(0, n).map((x) => x.id);
}

/**
 * Raw phrasing scores of each window (null where not scored) with `score`, in one stage or two (see
 * SoundScoringOptions); windows whose `speech` share reaches `skipSpeechShare`, or with a `transcript`, are not scored. Also
 * the label sequences Whisper decoded and the seconds it spent.
 */
export async function scoreSoundWindows(
  score: LabelScorer,
  windows: readonly SoundWindow[],
  prior: readonly number[],
  opts: SoundScoringOptions = {},
  speech: readonly number[] = [],
  labels: readonly SoundLabel[] = SOUND_LABELS,
): Promise<{ raw: Array<Array<number | null>>; sequences: number; seconds: number }> {
  const o = { ...SOUND_SCORING_DEFAULTS, ...opts };
  const phrasings = soundPhrasings(labels);
  const texts = phrasings.map((p) => p.text);
  const raw: Array<Array<number | null>> = windows.map(() => phrasings.map(() => null));
  const todo = windows.flatMap((w, i) => ((speech[i] ?? 0) >= o.skipSpeechShare || w.transcript !== undefined ? [] : [{ w, i }]));
  if (todo.length === 0) return { raw, sequences: 0, seconds: 0 };
  const ws = todo.map((t) => t.w);
  let sequences = 0, seconds = 0;
  const run = async (subsets: Array<readonly number[]>): Promise<void> => {
    const r = await score(ws, texts, subsets);
    subsets.forEach((s, k) => s.forEach((p, j) => (raw[todo[k].i][p] = r.scores[k][j])));
    sequences += subsets.reduce((a, s) => a + s.length, 0);
    seconds += r.seconds;
  };
  const every = phrasings.map((_, p) => p);
  if (o.shortlist <= 0 || o.shortlist >= labels.length) {
    await run(ws.map(() => every));
    return { raw, sequences, seconds };
  }
  const first = phrasings.flatMap((p, i) => (p.slot === o.firstSlot ? [i] : []));
  await run(ws.map(() => first));
  await run(
    todo.map(({ i }) => {
      const keep = new Set(shortlistClasses(raw[i], prior, o.shortlist, o.firstSlot, labels));
      return phrasings.flatMap((p, k) => (keep.has(p.label.id) && p.slot !== o.firstSlot ? [k] : []));
    }),
  );
  return { raw, sequences, seconds };
}

/**
 * The decision of each window, and the events (consecutive windows of one class or family merged).
 * A class is stated when every phrasing slot ranks it first and it clears the margin (the larger one
 * in speech windows); otherwise its family, when the two best classes share it and the best clears
 * the family margin (with familyAgreement, only when every phrasing slot's best class is of it). Speech
 * labels are never stated, nor the family of sounds people make: it holds speech, and on the tune
 * split half of its family statements were animal calls. In windows shorter than minSustainedSeconds
 * the sustained classes are left out of the ranking.
 */
export function decideSoundEvents(
  windows: readonly SoundWindow[],
  scores: readonly RawScores[],
  speech: readonly number[],
  prior: readonly number[],
  opts: SoundDecisionOptions = {},
  labels: readonly SoundLabel[] = SOUND_LABELS,
): { events: SoundEvent[]; decisions: WindowDecision[]; steadyNoise: SteadyNoiseSpan[] } {
  const o = { ...SOUND_DECISION_DEFAULTS, ...opts };
  const steadyNoise: SteadyNoiseSpan[] = [];
  const byId = new Map(labels.map((l) => [l.id, l]));
  const sustained = soundPhrasings(labels).map((p) => p.label.sustained === true);
  const decisions: WindowDecision[] = [];
  const events: SoundEvent[] = [];
  windows.forEach((w, i) => {
    const short = w.end - w.start < o.minSustainedSeconds;
    const { ranked, agreed, slotTops } = classScores(short ? scores[i].map((v, k) => (sustained[k] ? null : v)) : scores[i], prior, labels);
    const [top, second] = ranked;
    const speechy = speech[i] >= o.speechShare;
    const d: WindowDecision = { ...w, speech: round2(speech[i]), top: ranked.slice(0, 3), agreed };
    decisions.push(d);
    if (w.noise?.steady === true) {
      d.abstained = 'steady broadband noise';
      const last = steadyNoise[steadyNoise.length - 1];
      if (last !== undefined && w.start - last.end < 0.5) Object.assign(last, { end: w.end, broadness: Math.min(last.broadness, w.noise.broadness), spreadDb: Math.max(last.spreadDb, w.noise.spreadDb) });
      else steadyNoise.push({ start: w.start, end: w.end, broadness: w.noise.broadness, spreadDb: w.noise.spreadDb });
      return;
    }
    if (ranked.length === 0) {
      d.abstained = 'speech'; // not scored: transcribed speech, or speech only (SoundScoringOptions.skipSpeechShare)
      return;
    }
    if (top === undefined || second === undefined) throw new OmnicapError('INVALID_ARGUMENT', 'a window needs no class or at least two classes scored');
    const a = byId.get(top.id), b = byId.get(second.id);
    const familyAgreed = !o.familyAgreement || slotTops.every((id) => byId.get(id)?.family === a?.family);
    const familyOk = a !== undefined && b !== undefined && a.family === b.family && !o.unstatedFamilies.includes(a.family) && familyAgreed && top.score >= (speechy ? o.minSpeechScore : o.minFamilyScore);
    const kin = (c: ClassScore): boolean => c.id === a?.parent || byId.get(c.id)?.parent === top.id;
    const rival = o.parentCompetes ? second : ranked.find((c, k) => k > 0 && !kin(c));
    if (a?.speech === true) d.abstained = 'speech';
    else if (agreed && top.score >= (speechy ? o.minSpeechScore : o.minScore) && top.score - (rival?.score ?? -Infinity) >= o.minClassMargin) d.stated = { kind: 'class', label: top.id };
    else if (familyOk && a !== undefined) d.stated = { kind: 'family', label: a.family };
    else d.abstained = speechy ? 'speech' : !agreed ? 'phrasings disagree' : top.score >= o.minScore ? 'runner-up too close' : 'below margin';
    const stated = d.stated;
    if (stated === undefined) return;
    const words = stated.kind === 'class' ? top.words : SOUND_FAMILY_WORDS[a?.family ?? 'animal'];
    const last = events[events.length - 1];
    if (last !== undefined && last.kind === stated.kind && last.label === stated.label && w.start - last.end < 0.5) {
      last.end = w.end;
      if (top.score > last.score) Object.assign(last, { score: top.score, alternatives: alternatives(stated.kind, ranked) });
    } else events.push({ kind: stated.kind, label: stated.label, words, start: w.start, end: w.end, score: top.score, alternatives: alternatives(stated.kind, ranked) });
  });
  return { events, decisions, steadyNoise };
}

/** Each window with its noise measurement (../steady-noise.ts) over its own span of the 16 kHz samples. */
export function measureWindows(samples: Float32Array, windows: readonly SoundWindow[]): SoundWindow[] {
  return windows.map((w) => ({ ...w, noise: measureNoise(samples, Math.round(w.start * FS), Math.round(w.end * FS)) }));
}

/** What else the window could be: the next three classes of a class event, the best three of a family event. */
const alternatives = (kind: SoundEvent['kind'], ranked: readonly ClassScore[]): ClassScore[] => (kind === 'class' ? ranked.slice(1, 4) : ranked.slice(0, 3));

/** Share of the 32 ms Silero chunks of each window with speech probability >= 0.5. */
export function speechShares(probs: Float32Array, windows: readonly SoundWindow[]): number[] {
  const hop = 512 / FS;
  return windows.map((w) => {
    const a = Math.floor(w.start / hop), b = Math.max(a + 1, Math.ceil(w.end / hop));
    let n = 0, s = 0;
    for (let i = a; i < Math.min(b, probs.length); i++, n++) if (probs[i] >= 0.5) s++;
    return n === 0 ? 0 : s / n;
  });
}

const t1 = (x: number): string => x.toFixed(1);

/** The answer text: stated events only (guesses below the margin stay in `data`, so no caption repeats them). */
export function formatSoundEventAnswer(d: SoundEventData): string {
  const n = d.windows.filter((w) => w.top.length > 0).length;
  const speechOnly = d.windows.length - n;
  const scored = `${n} window${n === 1 ? '' : 's'} of sound scored${speechOnly > 0 ? `, ${speechOnly} of speech only not` : ''}${d.skippedWindows > 0 ? `, ${d.skippedWindows} quieter ones not` : ''}`;
  const noise = (d.steadyNoise ?? []).map((n) => ` Steady broadband noise measured [${t1(n.start)}-${t1(n.end)} s] (spectral broadness ${n.broadness.toFixed(2)}, band levels within ${n.spreadDb.toFixed(1)} dB): no class is named for it.`).join('');
  if (d.events.length === 0) return `No sound event could be named with confidence (${scored}; engine ${d.engine}, zero-shot).${noise}`;
  const items = d.events.map((e) => `[${t1(e.start)}-${t1(e.end)} s] a sound like ${e.words} (score ${e.score.toFixed(2)})`);
  return `Sound events (zero-shot tagger, engine ${d.engine}; names can be wrong; ${scored}): ${items.join('; ')}.${noise}`;
}

export type SoundEventObserver = DisposableObserver;

/** Whisper's own bound on a segment's no-speech probability (faster-whisper's no_speech_threshold). */
const NO_SPEECH_MAX = 0.6;

/**
 * Windows where Silero VAD hears speech (share >= `speechShare`) are transcribed greedily, one pass
 * without temperature fallback (a pass that fails Whisper's thresholds is not quotable anyway); one with a
 * segment that a caption would quote (confidence >= MIN_TRANSCRIPT_CONFIDENCE, no-speech probability
 * under Whisper's bound) gets its `transcript` and is not scored: the speech is the ASR observer's,
 * and scoring 99 label sequences costs about six times the transcription. Laughter or a crowd that
 * the VAD takes for speech transcribes with low confidence and is still scored.
 */
export async function markTranscribedSpeech(worker: Pick<WhisperWorker, 'transcribe'>, samples: Float32Array, windows: SoundWindow[], speech: readonly number[], speechShare: number, signal?: AbortSignal): Promise<void> {
  const idx = windows.flatMap((_, i) => ((speech[i] ?? 0) >= speechShare ? [i] : []));
  if (idx.length === 0) return;
  const r = await worker.transcribe(samples, idx.map((i) => [windows[i].start, windows[i].end] as const), { beamSize: 1, fallback: false, signal });
  for (const i of idx) {
    const w = windows[i];
    const quoted = r.segments.filter((s) => s.start < w.end && s.end > w.start && Math.exp(s.avgLogprob) >= MIN_TRANSCRIPT_CONFIDENCE && s.noSpeechProb < NO_SPEECH_MAX);
    if (quoted.length > 0) w.transcript = quoted.map((s) => s.text.trim()).join(' ');
  }
}

/** The observer "sound_events". Needs the Whisper venv and model (scripts/setup-asr.sh) and Silero VAD. */
export function soundEventObserver(opts: SoundEventOptions = {}): SoundEventObserver {
  const model = opts.whisperModel ?? 'base';
  const engine = model === 'base' ? 'whisper-base' : 'whisper-tiny.en';
  const worker = new WhisperWorker({ python: opts.python, modelDir: opts.whisperModelDir ?? defaultWhisperModelDir(model), threads: opts.threads });
  const vadPath = opts.vadModelPath ?? defaultSileroPath();
  const phrasings = soundPhrasings();
  const priors = SOUND_PRIORS[model];
  const vad = lazySilero(vadPath, 'the sound-event observer');
  const release = async (): Promise<void> => {
    await worker.dispose();
    await vad.release();
  };
  return disposableObserver({
    name: 'sound_events',
    modality: 'audio',
    threads: opts.threads ?? 2,
    description:
      'Sound events (zero-shot, Whisper scoring about 90 subtitle-style sound labels such as "(dog barking)", "[door creaks]", "(applause)"): returns the events it can name with their times [start-end s] and a score, or says that none could be named; steady broadband noise (hiss) is reported as measured, not named. It abstains rather than guess; speech is left to the asr observer. The question is ignored.',
    async observe({ media, signal }) {
      const samples = needSamples('sound_events', media.samples);
      const prior = phrasings.map((p) => priors[p.text]);
      if (prior.some((v) => v === undefined)) throw new OmnicapError('MODEL_NOT_FOUND', `no sound-label calibration for Whisper ${model} (run scripts/bench-sound.ts --write-priors)`);
      const found = soundWindows(samples, SOUND_CONTEXT_SECONDS, opts.maxWindows ?? 24);
      const windows = measureWindows(samples, found.windows);
      const skipped = found.skipped;
      const probs = await vad.speechProbs(samples, signal);
      throwIfAborted(signal);
      const scorer: LabelScorer = async (ws, labels, subsets) => worker.scoreLabels(samples, ws.map((w) => [w.start, w.end] as const), labels, { contextSeconds: SOUND_CONTEXT_SECONDS, tileSeconds: SOUND_TILE_SECONDS, subsets, signal });
      const scoring: Required<SoundScoringOptions> = {
        shortlist: opts.shortlist ?? SOUND_SCORING_DEFAULTS.shortlist,
        firstSlot: opts.firstSlot ?? SOUND_SCORING_DEFAULTS.firstSlot,
        skipSpeechShare: opts.skipSpeechShare ?? SOUND_SCORING_DEFAULTS.skipSpeechShare,
      };
      const speech = speechShares(probs, windows);
      if (opts.transcribeSpeech !== false) await markTranscribedSpeech(worker, samples, windows, speech, opts.speechShare ?? SOUND_DECISION_DEFAULTS.speechShare, signal);
      const scored = await scoreSoundWindows(scorer, windows, prior as number[], scoring, speech);
      const decision: Required<SoundDecisionOptions> = {
        minScore: opts.minScore ?? SOUND_DECISION_DEFAULTS.minScore,
        minSpeechScore: opts.minSpeechScore ?? SOUND_DECISION_DEFAULTS.minSpeechScore,
        speechShare: opts.speechShare ?? SOUND_DECISION_DEFAULTS.speechShare,
        minFamilyScore: opts.minFamilyScore ?? SOUND_DECISION_DEFAULTS.minFamilyScore,
        minClassMargin: opts.minClassMargin ?? SOUND_DECISION_DEFAULTS.minClassMargin,
        minSustainedSeconds: opts.minSustainedSeconds ?? SOUND_DECISION_DEFAULTS.minSustainedSeconds,
        familyAgreement: opts.familyAgreement ?? SOUND_DECISION_DEFAULTS.familyAgreement,
        unstatedFamilies: opts.unstatedFamilies ?? SOUND_DECISION_DEFAULTS.unstatedFamilies,
        parentCompetes: opts.parentCompetes ?? SOUND_DECISION_DEFAULTS.parentCompetes,
      };
      const { events, decisions, steadyNoise } = decideSoundEvents(windows, scored.raw, speech, prior as number[], decision);
      const data: SoundEventData = {
        engine,
        events,
        windows: decisions,
        skippedWindows: skipped,
        steadyNoise,
        settings: { ...decision, ...scoring, contextSeconds: SOUND_CONTEXT_SECONDS, tileSeconds: SOUND_TILE_SECONDS, calibration: 'mean score over a reference set of everyday sounds' },
        scoreSeconds: scored.seconds,
        sequences: scored.sequences,
      };
      return { answer: formatSoundEventAnswer(data), data };
    },
  }, release);
}
