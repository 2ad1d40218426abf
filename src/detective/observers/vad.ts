/**
 * VAD observer: speech / sound / silence segmentation. Silero VAD (ONNX, shipped in the
 * `silero-vad` PyPI wheel, extracted by scripts/setup-models.sh) run with onnxruntime-node finds
 * speech; an energy gate splits the rest into silence and sound; each stretch of sound is then
 * measured tonal (label "music": low spectral flatness, sustained peaks) or not (label "noise":
 * broadband or impulsive) by ../sound-class.ts. Stretches too short to judge stay "sound". The
 * "music" label is that measurement only: a creak or a bark can be tonal; what the sound is, is the
 * sound-event observer's to say.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { ort } from '../../engine/ort';
import { OmnicapError } from '../../errors';
import { throwIfAborted } from '../../util/abort';
import { packageRoot } from '../../util/paths';
import { classifySound, soundFeatures } from '../sound-class';
import { disposableObserver, type DisposableObserver } from './disposable';
import { needSamples } from './proc';

export type VadLabel = 'speech' | 'music' | 'noise' | 'sound' | 'silence';
export interface VadSegment {
  label: VadLabel;
  start: number;
  end: number;
}

/** Segment labels in the answer text ("music" is a measurement of a tonal spectrum, not a recognition of music). */
const ANSWER_WORD: Record<VadLabel, string> = { speech: 'speech', music: 'tonal sound', noise: 'sound', sound: 'sound', silence: 'silence' };

const CHUNK = 512;
const CONTEXT = 64;
const HOP_SECONDS = CHUNK / 16000;

export function defaultSileroPath(): string {
  return join(packageRoot(), 'models', 'cache', 'silero-vad', 'silero_vad.onnx');
}

/** Speech probability for each 32 ms chunk of 16 kHz audio. */
export async function sileroSpeechProbs(session: Ort.InferenceSession, samples: Float32Array, signal?: AbortSignal): Promise<Float32Array> {
  const n = Math.ceil(samples.length / CHUNK);
  const probs = new Float32Array(n);
  const { Tensor } = ort();
  let state: Ort.Tensor = new Tensor('float32', new Float32Array(2 * 128), [2, 1, 128]);
  const sr = new Tensor('int64', BigInt64Array.from([16000n]), []);
  const input = new Float32Array(CONTEXT + CHUNK);
  for (let c = 0; c < n; c++) {
    if (c % 256 === 0) throwIfAborted(signal);
    input.copyWithin(0, CHUNK, CHUNK + CONTEXT);
    input.fill(0, CONTEXT);
    input.set(samples.subarray(c * CHUNK, Math.min(samples.length, (c + 1) * CHUNK)), CONTEXT);
    const out = await session.run({ input: new Tensor('float32', input.slice(), [1, CONTEXT + CHUNK]), state, sr });
    probs[c] = (out.output.data as Float32Array)[0];
    state = out.stateN as Ort.Tensor;
  }
  return probs;
}

/** A Silero VAD session opened on first use (MODEL_NOT_FOUND naming `owner` when the model is not installed) and released with its owner. */
export function lazySilero(path: string, owner: string): { speechProbs(samples: Float32Array, signal?: AbortSignal): Promise<Float32Array>; release(): Promise<void> } {
  let session: Promise<Ort.InferenceSession> | undefined;
  return {
    async speechProbs(samples, signal) {
      if (!existsSync(path)) throw new OmnicapError('MODEL_NOT_FOUND', `the Silero VAD model of ${owner} is not installed (run scripts/setup-models.sh)`);
      session ??= ort().InferenceSession.create(path, { intraOpNumThreads: 1, interOpNumThreads: 1 });
      return sileroSpeechProbs(await session, samples, signal);
    },
    async release() {
      const s = session;
      session = undefined;
      if (s !== undefined) await (await s).release();
    },
  };
}

/** Merge per-chunk labels into segments; runs shorter than `minSeconds` join their neighbour (the one before, or for the first run the one after). */
export function segmentLabels(labels: VadLabel[], hopSeconds: number, minSeconds = 0.25): VadSegment[] {
  const segs: VadSegment[] = [];
  labels.forEach((label, i) => {
    const last = segs[segs.length - 1];
    if (last !== undefined && last.label === label) last.end = (i + 1) * hopSeconds;
    else segs.push({ label, start: i * hopSeconds, end: (i + 1) * hopSeconds });
  });
  const merged: VadSegment[] = [];
  for (const s of segs) {
    const last = merged[merged.length - 1];
    if (last !== undefined && (s.end - s.start < minSeconds || last.label === s.label)) last.end = s.end;
    // a short first run has no neighbour before it: the next run takes it over
    else if (last !== undefined && merged.length === 1 && last.end - last.start < minSeconds) Object.assign(last, { label: s.label, end: s.end });
    else merged.push({ ...s });
  }
  return merged.map((s) => ({ label: s.label, start: Number(s.start.toFixed(2)), end: Number(s.end.toFixed(2)) }));
}

export interface VadObserverOptions {
  modelPath?: string;
  threshold?: number;
  silenceDbfs?: number;
}

export type VadObserver = DisposableObserver;

export function vadObserver(opts: VadObserverOptions = {}): VadObserver {
  const modelPath = opts.modelPath ?? defaultSileroPath();
  let session: Promise<Ort.InferenceSession> | undefined;
  const getSession = (): Promise<Ort.InferenceSession> => {
    if (!existsSync(modelPath)) throw new OmnicapError('MODEL_NOT_FOUND', `Silero VAD model not found at ${modelPath} (run scripts/setup-models.sh)`);
    session ??= ort().InferenceSession.create(modelPath, { intraOpNumThreads: 1, interOpNumThreads: 1 });
    return session;
  };
  const release = async (): Promise<void> => {
    const s = session;
    session = undefined;
    if (s !== undefined) await (await s).release();
  };
  return disposableObserver({
    name: 'vad',
    modality: 'audio',
    description: 'Speech/sound/silence segmentation (Silero VAD + energy gate; stretches of sound measured tonal or not by their spectrum, which does not say what the sound is): time segments of each (sung vocals count as speech). The question is ignored.',
    async observe({ media, signal }) {
      const samples = needSamples('vad', media.samples);
      const probs = await sileroSpeechProbs(await getSession(), samples, signal);
      const gate = Math.pow(10, (opts.silenceDbfs ?? -50) / 20);
      const labels: VadLabel[] = Array.from(probs, (p, c) => {
        if (p >= (opts.threshold ?? 0.5)) return 'speech';
        const chunk = samples.subarray(c * CHUNK, (c + 1) * CHUNK);
        let e = 0;
        for (const v of chunk) e += v * v;
        return Math.sqrt(e / Math.max(1, chunk.length)) < gate ? 'silence' : 'sound';
      });
      const segments = segmentLabels(labels, HOP_SECONDS).map((s) => {
        if (s.label !== 'sound') return s;
        const cls = classifySound(soundFeatures(samples, Math.round(s.start * 16000), Math.round(s.end * 16000)));
        return cls === undefined ? s : { ...s, label: cls };
      });
      const total: Record<VadLabel, number> = { speech: 0, music: 0, noise: 0, sound: 0, silence: 0 };
      for (const s of segments) total[s.label] += s.end - s.start;
      for (const k of Object.keys(total) as VadLabel[]) total[k] = Number(total[k].toFixed(2));
      const answer =
        `Speech ${total.speech.toFixed(1)} s, sound with a tonal spectrum ${total.music.toFixed(1)} s, other sound ${(total.noise + total.sound).toFixed(1)} s, ` +
        `silence ${total.silence.toFixed(1)} s. Segments: ` +
        segments.slice(0, 30).map((s) => `${ANSWER_WORD[s.label]} ${s.start.toFixed(1)}-${s.end.toFixed(1)} s`).join(', ');
      return { answer, data: { segments, totals: total } };
    },
  }, release);
}
