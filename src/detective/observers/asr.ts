/**
 * ASR observer. Default engine: Whisper (faster-whisper on CTranslate2, ./whisper.ts) run on the
 * speech stretches that Silero VAD (./vad.ts) finds; each stretch is decoded on its own and the
 * answer lists Whisper's segments with clip times and a confidence (exp of the mean token log
 * probability). When scripts/setup-asr.sh has not installed Whisper, CMU PocketSphinx (Debian
 * `pocketsphinx` + `pocketsphinx-en-us`, 16 kHz English, poor on telephone-band audio) answers
 * instead; the answer and `data.engine` always say which engine answered.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { OmnicapError } from '../../errors';
import { throwIfAborted } from '../../util/abort';
import { disposableObserver, type DisposableObserver } from './disposable';
import { needSamples, runTool, withTempDir, writeTempWav } from './proc';
import { defaultSileroPath, lazySilero } from './vad';
import { defaultWhisperModelDir, defaultWhisperPython, whisperAvailable, WhisperWorker, type WhisperModelName, type WhisperSegment } from './whisper';

/** Whisper's own floor: a decode whose mean token log-probability is under -1 is not trusted (a caption quotes only speech at or above it). */
export const MIN_TRANSCRIPT_CONFIDENCE = Math.exp(-1);

export interface PocketsphinxOptions {
  bin?: string;
  /** Directory holding en-us/, en-us.lm.bin and cmudict-en-us.dict. */
  modelDir?: string;
}

export const DEFAULT_POCKETSPHINX_MODEL = '/usr/share/pocketsphinx/model/en-us';

export function pocketsphinxAvailable(opts: PocketsphinxOptions = {}): boolean {
  return existsSync(join(opts.modelDir ?? DEFAULT_POCKETSPHINX_MODEL, 'en-us.lm.bin'));
}

export type AsrEngine = 'whisper-base' | 'whisper-tiny.en' | 'pocketsphinx-en-us';

export interface AsrOptions {
  /** 'auto' (default): Whisper when installed, else PocketSphinx. */
  engine?: 'auto' | 'whisper' | 'pocketsphinx';
  /** Whisper model (default 'base', multilingual; 'tiny.en' is the light English-only option). */
  whisperModel?: WhisperModelName;
  /** Overrides the model directory that whisperModel selects. */
  whisperModelDir?: string;
  python?: string;
  /** CTranslate2 threads (default 2). */
  threads?: number;
  /** Language code for Whisper; detected when omitted ('en' for tiny.en). */
  language?: string;
  beamSize?: number;
  /** Silero VAD model path (default models/cache/silero-vad/silero_vad.onnx). */
  vadModelPath?: string;
  pocketsphinx?: PocketsphinxOptions;
}

export interface AsrSegment {
  start: number;
  end: number;
  text: string;
  /** exp(mean token log probability) in [0, 1]; null for PocketSphinx. */
  confidence: number | null;
  noSpeechProb: number | null;
}

export interface AsrData {
  engine: AsrEngine;
  transcript: string;
  segments: AsrSegment[];
  /** Speech stretches (seconds) given to Whisper; from Silero VAD. */
  speech: Array<{ start: number; end: number }>;
  language?: string | null;
  /** Whisper's probability for that language (null when it was given, not detected). */
  languageProbability?: number | null;
  /** Seconds Whisper spent decoding. */
  decodeSeconds?: number;
}

export type AsrObserver = DisposableObserver & { readonly engine: AsrEngine };

const VAD_HOP = 512 / 16000;

/**
 * Speech stretches from Silero speech probabilities: hysteresis (on at `threshold`, off below
 * threshold - 0.15), stretches shorter than 0.25 s dropped, 0.3 s padding, gaps under 1 s closed.
 */
export function speechChunks(probs: Float32Array, durationSeconds: number, threshold = 0.5): Array<[number, number]> {
  const raw: Array<[number, number]> = [];
  let start = -1;
  for (let i = 0; i <= probs.length; i++) {
    const p = i < probs.length ? probs[i] : 0;
    if (start < 0 && p >= threshold) start = i;
    else if (start >= 0 && p < threshold - 0.15) {
      if ((i - start) * VAD_HOP >= 0.25) raw.push([start * VAD_HOP, i * VAD_HOP]);
      start = -1;
    }
  }
  const out: Array<[number, number]> = [];
  for (const [s, e] of raw) {
    const a = Math.max(0, s - 0.3);
    const b = Math.min(durationSeconds, e + 0.3);
    const last = out[out.length - 1];
    if (last !== undefined && a - last[1] < 1) last[1] = b;
    else out.push([a, b]);
  }
  return out.map(([a, b]) => [Number(a.toFixed(2)), Number(b.toFixed(2))]);
}

/** Whisper's usual hallucination guard: silence-like or repetitive segments are dropped. */
function keepSegment(s: WhisperSegment): boolean {
  if (s.noSpeechProb > 0.6 && s.avgLogprob < -1) return false;
  return s.compressionRatio <= 2.4 && s.text.trim() !== '';
}

function fmt(t: number): string {
  return t.toFixed(1);
}

/** The answer text, one line: a header, then each segment as `[start-end s] (confidence) text`. */
export function formatAsrAnswer(d: AsrData): string {
  if (d.segments.length === 0) {
    return d.engine === 'pocketsphinx-en-us' ? 'No speech was recognized (engine pocketsphinx-en-us).' : `No speech was recognized (engine ${d.engine}; Silero VAD found ${d.speech.length === 0 ? 'no speech' : `speech in ${d.speech.length} stretch(es) but Whisper decoded no words`}).`;
  }
  const mean = d.segments.reduce((a, s) => a + (s.confidence ?? 0), 0) / d.segments.length;
  const head = `Transcript (engine ${d.engine}${d.language ? `, language ${d.language}` : ''}, ${d.segments.length} segment${d.segments.length === 1 ? '' : 's'}, mean confidence ${mean.toFixed(2)}):`;
  return [head, ...d.segments.map((s) => `[${fmt(s.start)}-${fmt(s.end)} s] (${s.confidence?.toFixed(2) ?? '?'}) ${s.text}`)].join(' ');
}

function pocketsphinxObserver(opts: PocketsphinxOptions, fallback: boolean): AsrObserver {
  const bin = opts.bin ?? 'pocketsphinx_continuous';
  const dir = opts.modelDir ?? DEFAULT_POCKETSPHINX_MODEL;
  const engine: AsrEngine = 'pocketsphinx-en-us';
  return disposableObserver({
    name: 'asr',
    modality: 'audio',
    engine,
    description: `Speech recognition (English, PocketSphinx${fallback ? ' fallback: Whisper is not installed' : ''}): returns the words spoken in the clip, without times. The question is ignored.`,
    async observe({ media, signal }) {
      const samples = needSamples('asr', media.samples);
      const out = await withTempDir(async (tmp) =>
        runTool(bin, ['-infile', await writeTempWav(tmp, samples, 16000), '-hmm', join(dir, 'en-us'), '-lm', join(dir, 'en-us.lm.bin'), '-dict', join(dir, 'cmudict-en-us.dict'), '-logfn', '/dev/null'], signal),
      );
      const transcript = out.split('\n').map((l) => l.trim()).filter((l) => l !== '').join(' ');
      const duration = samples.length / 16000;
      const data: AsrData = {
        engine: 'pocketsphinx-en-us',
        transcript,
        segments: transcript === '' ? [] : [{ start: 0, end: Number(duration.toFixed(2)), text: transcript, confidence: null, noSpeechProb: null }],
        speech: [],
      };
      const answer = transcript === '' ? formatAsrAnswer(data) : `Transcript (engine pocketsphinx-en-us, no timestamps or confidence): "${transcript}"`;
      return { answer, data };
    },
  });
}

function whisperObserver(opts: AsrOptions): AsrObserver {
  const model = opts.whisperModel ?? 'base';
  const engine: AsrEngine = model === 'base' ? 'whisper-base' : 'whisper-tiny.en';
  const worker = new WhisperWorker({ python: opts.python, modelDir: opts.whisperModelDir ?? defaultWhisperModelDir(model), threads: opts.threads });
  const vadPath = opts.vadModelPath ?? defaultSileroPath();
  const language = opts.language ?? (model === 'tiny.en' ? 'en' : undefined);
  const vad = lazySilero(vadPath, 'the ASR observer');
  const release = async (): Promise<void> => {
    await worker.dispose();
    await vad.release();
  };
  return disposableObserver({
    name: 'asr',
    modality: 'audio',
    engine,
    threads: opts.threads ?? 2,
    description: `Speech recognition (Whisper ${model}${model === 'base' ? ', multilingual' : ', English'}, on the speech that Silero VAD finds): returns the words spoken with segment times [start-end s] and a confidence per segment. The question is ignored.`,
    async observe({ media, signal }) {
      const samples = needSamples('asr', media.samples);
      const probs = await vad.speechProbs(samples, signal);
      throwIfAborted(signal);
      const chunks = speechChunks(probs, samples.length / 16000);
      const res = await worker.transcribe(samples, chunks, { language, beamSize: opts.beamSize, signal });
      const segments: AsrSegment[] = res.segments.filter(keepSegment).map((s) => ({
        start: s.start,
        end: s.end,
        text: s.text,
        confidence: Number(Math.exp(s.avgLogprob).toFixed(3)),
        noSpeechProb: Number(s.noSpeechProb.toFixed(3)),
      }));
      const data: AsrData = {
        engine,
        transcript: segments.map((s) => s.text).join(' '),
        segments,
        speech: chunks.map(([start, end]) => ({ start, end })),
        language: res.language,
        languageProbability: res.languageProbability === null ? null : Number(res.languageProbability.toFixed(3)),
        decodeSeconds: res.seconds,
      };
      return { answer: formatAsrAnswer(data), data };
    },
  }, release);
}

/**
 * The ASR observer. engine 'auto' picks Whisper when its venv and model are installed
 * (scripts/setup-asr.sh), else PocketSphinx; 'whisper' fails at first use when it is missing.
 */
export function asrObserver(opts: AsrOptions = {}): AsrObserver {
  const engine = opts.engine ?? 'auto';
  if (engine === 'pocketsphinx') return pocketsphinxObserver(opts.pocketsphinx ?? {}, false);
  const modelDir = opts.whisperModelDir ?? defaultWhisperModelDir(opts.whisperModel ?? 'base');
  if (engine === 'auto' && !whisperAvailable({ python: opts.python ?? defaultWhisperPython(), modelDir })) return pocketsphinxObserver(opts.pocketsphinx ?? {}, true);
  return whisperObserver(opts);
}
