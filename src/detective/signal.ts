/** Signal analysis of decoded mono audio, written in TypeScript (no model): the "signal" observer. */
import { types } from 'node:util';
import { invalidParameterError } from '../errors';
import { percentileOfSorted } from '../util/percentile';
import { integratedLoudness, truePeakDb } from './loudness';

export interface SignalReport {
  durationSeconds: number;
  sampleRate: number;
  /** Integrated loudness (BS.1770-4, mono weight 1.0); null for silence. */
  integratedLufs: number | null;
  truePeakDbtp: number | null;
  samplePeakDbfs: number | null;
  /** Fraction of samples at or above the clipping threshold (|x| >= 0.999). */
  clippingRatio: number;
  /** 10th percentile of 20 ms frame RMS (dBFS). */
  noiseFloorDbfs: number | null;
  /** 95th percentile frame RMS minus noise floor (dB). */
  snrDb: number | null;
  /** Mean 95 % spectral rolloff of non-silent frames (Hz). */
  bandwidthHz: number | null;
  /** Fraction of 20 ms frames below -50 dBFS RMS. */
  silenceRatio: number;
  /** Tempo from onset-envelope autocorrelation (40–200 BPM), null if no periodicity. */
  tempoBpm: number | null;
  tempoConfidence: number;
}

export const CLIP_THRESHOLD = 0.999;
export const SILENCE_DBFS = -50;

const db = (x: number): number => 20 * Math.log10(x);
const finiteOrNull = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** In-place radix-2 complex FFT. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j], re[i]];
      [im[i], im[j]] = [im[j], im[i]];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k), wi = Math.sin(ang * k);
        const a = i + k, b = a + len / 2;
        const xr = re[b] * wr - im[b] * wi, xi = re[b] * wi + im[b] * wr;
        re[b] = re[a] - xr; im[b] = im[a] - xi;
        re[a] += xr; im[a] += xi;
      }
    }
  }
}

/** Frequency below which `fraction` of the frame's spectral energy lies. */
function rolloffHz(frame: Float32Array, fs: number, fraction = 0.95): number {
  const n = frame.length;
  const re = new Float64Array(n), im = new Float64Array(n);
  for (let i = 0; i < n; i++) re[i] = frame[i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  fft(re, im);
  const power = new Float64Array(n / 2 + 1);
  let total = 0;
  for (let k = 0; k <= n / 2; k++) total += power[k] = re[k] * re[k] + im[k] * im[k];
  let acc = 0;
  for (let k = 0; k <= n / 2; k++) if ((acc += power[k]) >= fraction * total) return (k * fs) / n;
  return fs / 2;
}

/** Tempo by autocorrelation of the half-wave rectified energy-flux onset envelope (10 ms hop). */
export function estimateTempo(samples: Float32Array, fs: number): { bpm: number | null; confidence: number } {
  const hop = Math.round(fs / 100);
  const frames = Math.floor(samples.length / hop);
  if (frames < 400) return { bpm: null, confidence: 0 };
  const energy = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let s = 0;
    for (let i = f * hop; i < (f + 1) * hop; i++) s += samples[i] * samples[i];
    energy[f] = Math.log10(1e-10 + s / hop);
  }
  const onset = new Float64Array(frames);
  for (let f = 1; f < frames; f++) onset[f] = Math.max(0, energy[f] - energy[f - 1]);
  const mean = onset.reduce((a, b) => a + b, 0) / frames;
  for (let f = 0; f < frames; f++) onset[f] -= mean;
  let r0 = 0;
  for (let f = 0; f < frames; f++) r0 += onset[f] * onset[f];
  if (r0 <= 0) return { bpm: null, confidence: 0 };
  const minLag = Math.round((60 / 200) * 100), maxLag = Math.round((60 / 40) * 100);
  let bestLag = 0, best = -Infinity;
  const r = new Float64Array(maxLag + 2);
  for (let lag = minLag - 1; lag <= maxLag + 1; lag++) {
    let s = 0;
    for (let f = lag; f < frames; f++) s += onset[f] * onset[f - lag];
    r[lag] = s / r0;
  }
  for (let lag = minLag; lag <= maxLag; lag++) if (r[lag] > best) (best = r[lag]), (bestLag = lag);
  if (best < 0.1) return { bpm: null, confidence: Math.max(0, best) };
  // parabolic interpolation of the peak for sub-frame lag resolution
  const d = r[bestLag - 1] - 2 * r[bestLag] + r[bestLag + 1];
  const lag = d === 0 ? bestLag : bestLag + (0.5 * (r[bestLag - 1] - r[bestLag + 1])) / d;
  return { bpm: 6000 / lag, confidence: best };
}

export function analyzeSignal(samples: Float32Array, sampleRate: number): SignalReport {
  if (!types.isFloat32Array(samples)) throw invalidParameterError('samples', 'a Float32Array', samples);
  if (!Number.isInteger(sampleRate) || sampleRate < 8000) throw invalidParameterError('sampleRate', 'an integer >= 8000', sampleRate);
  let peak = 0, clipped = 0;
  for (let i = 0; i < samples.length; i++) {
    const a = Math.abs(samples[i]);
    if (a > peak) peak = a;
    if (a >= CLIP_THRESHOLD) clipped++;
  }
  const frameLen = Math.round(0.02 * sampleRate);
  const fftLen = 1 << Math.ceil(Math.log2(frameLen));
  const rmsDb: number[] = [];
  let silent = 0;
  const rolloffs: number[] = [];
  for (let s = 0; s + frameLen <= samples.length; s += frameLen) {
    let e = 0;
    for (let i = s; i < s + frameLen; i++) e += samples[i] * samples[i];
    const level = db(Math.sqrt(e / frameLen) + 1e-12);
    rmsDb.push(level);
    if (level < SILENCE_DBFS) silent++;
    else if (rolloffs.length < 3000 && s + fftLen <= samples.length) rolloffs.push(rolloffHz(samples.subarray(s, s + fftLen), sampleRate));
  }
  const sorted = [...rmsDb].sort((a, b) => a - b);
  const floor = sorted.length === 0 ? NaN : percentileOfSorted(sorted, 10);
  const high = sorted.length === 0 ? NaN : percentileOfSorted(sorted, 95);
  const tempo = estimateTempo(samples, sampleRate);
  return {
    durationSeconds: samples.length / sampleRate,
    sampleRate,
    integratedLufs: finiteOrNull(integratedLoudness(samples, sampleRate)),
    truePeakDbtp: finiteOrNull(truePeakDb(samples)),
    samplePeakDbfs: peak > 0 ? db(peak) : null,
    clippingRatio: samples.length === 0 ? 0 : clipped / samples.length,
    noiseFloorDbfs: sorted.length ? floor : null,
    snrDb: sorted.length ? high - floor : null,
    bandwidthHz: rolloffs.length ? rolloffs.reduce((a, b) => a + b, 0) / rolloffs.length : null,
    silenceRatio: rmsDb.length ? silent / rmsDb.length : 1,
    tempoBpm: tempo.bpm,
    tempoConfidence: tempo.confidence,
  };
}

const fmt = (x: number | null, unit: string, digits = 1): string => (x === null ? 'n/a' : `${x.toFixed(digits)} ${unit}`);

/** A plain-language summary for the agent. */
export function describeSignal(r: SignalReport): string {
  return [
    `duration ${r.durationSeconds.toFixed(2)} s`,
    `integrated loudness ${fmt(r.integratedLufs, 'LUFS')}`,
    `true peak ${fmt(r.truePeakDbtp, 'dBTP')}`,
    `clipping ${(100 * r.clippingRatio).toFixed(2)} % of samples`,
    `noise floor ${fmt(r.noiseFloorDbfs, 'dBFS')}`,
    `SNR estimate ${fmt(r.snrDb, 'dB')}`,
    `bandwidth (95 % rolloff) ${fmt(r.bandwidthHz, 'Hz', 0)}`,
    `silence ${(100 * r.silenceRatio).toFixed(1)} % of the time`,
    r.tempoBpm === null ? 'no steady tempo' : `tempo ${r.tempoBpm.toFixed(1)} BPM (confidence ${r.tempoConfidence.toFixed(2)})`,
  ].join('; ');
}
