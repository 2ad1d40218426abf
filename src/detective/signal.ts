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
  /**
   * How the quietest frames (within 3 dB of the noise floor) move: the share of them whose level falls
   * (local slope over +-250 ms below -4 dB/s) and their median slope. A share near 1 means the "floor"
   * is a sound dying away (a ringing or reverberant tail, a fade-out), not background noise; null
   * when fewer than 5 quiet frames can be judged.
   */
  quietFrames: { decayingShare: number; slopeDbPerSecond: number } | null;
  /** Mean 95 % spectral rolloff of non-silent frames (Hz). */
  bandwidthHz: number | null;
  /**
   * Upper band edge: the highest frequency at which the long-term spectrum of the non-silent frames
   * (smoothed over 5 bins) is within 40 dB of its peak (Hz). About 3.4-4.3 kHz for telephone-band or
   * 8 kHz recordings, 6-8 kHz for wideband speech at 16 kHz.
   */
  bandEdgeHz: number | null;
  /** Fraction of 20 ms frames below -50 dBFS RMS. */
  silenceRatio: number;
  /** Tempo from onset-envelope autocorrelation (40–200 BPM), null if no periodicity. */
  tempoBpm: number | null;
  tempoConfidence: number;
}

export const CLIP_THRESHOLD = 0.999;
export const SILENCE_DBFS = -50;
/** Frames below this RMS are digital silence (no recorded noise), left out of the quiet-frame analysis. */
export const DIGITAL_SILENCE_DBFS = -90;
/** Quiet frames fall faster than this (dB/s) to count as decaying. */
export const DECAY_SLOPE_DB_PER_S = -4;
/** At least this share of the quiet frames must be decaying for the quiet parts to be a fading tail. */
export const MIN_DECAYING_SHARE = 0.8;
/** The long-term spectrum ends this many dB under its peak at the band edge. */
export const BAND_EDGE_DB = 40;
/** A band edge at or under this (Hz) is narrow-band: telephone lines pass 300-3400 Hz, 8 kHz recordings up to 4 kHz. */
export const NARROW_BAND_MAX_HZ = 4500;

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

/** Hann-windowed power spectrum of one frame (n / 2 + 1 bins). */
function powerSpectrum(frame: Float32Array): Float64Array {
  const n = frame.length;
  const re = new Float64Array(n), im = new Float64Array(n);
  for (let i = 0; i < n; i++) re[i] = frame[i] * (0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n));
  fft(re, im);
  const power = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) power[k] = re[k] * re[k] + im[k] * im[k];
  return power;
}

/** Frequency below which `fraction` of the spectrum's energy lies. */
function rolloffHz(power: Float64Array, fs: number, fraction = 0.95): number {
  const n = 2 * (power.length - 1);
  let total = 0;
  for (let k = 0; k < power.length; k++) total += power[k];
  let acc = 0;
  for (let k = 0; k < power.length; k++) if ((acc += power[k]) >= fraction * total) return (k * fs) / n;
  return fs / 2;
}

/** Highest frequency where the 5-bin smoothed spectrum (dB) is within BAND_EDGE_DB of its peak (bins under 60 Hz ignored). */
export function bandEdgeHz(power: Float64Array, fs: number): number | null {
  const n = 2 * (power.length - 1);
  const lo = Math.ceil((60 * n) / fs);
  const level = new Float64Array(power.length);
  for (let k = 0; k < power.length; k++) {
    let s = 0, c = 0;
    for (let j = Math.max(0, k - 2); j <= Math.min(power.length - 1, k + 2); j++) (s += power[j]), c++;
    level[k] = 10 * Math.log10(s / c + 1e-30);
  }
  let peak = -Infinity;
  for (let k = lo; k < power.length; k++) peak = Math.max(peak, level[k]);
  if (!Number.isFinite(peak) || peak <= -300) return null;
  for (let k = power.length - 1; k >= lo; k--) if (level[k] >= peak - BAND_EDGE_DB) return (k * fs) / n;
  return null;
}

/**
 * Share of the quiet frames (RMS within 3 dB of `floor`, digital silence left out) whose level is
 * falling, from a least-squares slope over +-250 ms of the 5-frame median-smoothed level.
 */
export function quietFrameTrend(levelsDb: readonly number[], floor: number, frameSeconds: number): SignalReport['quietFrames'] {
  const n = levelsDb.length;
  const smooth = levelsDb.map((_, i) => {
    const w = levelsDb.slice(Math.max(0, i - 2), i + 3).sort((a, b) => a - b);
    return w[w.length >> 1];
  });
  const half = Math.round(0.25 / frameSeconds);
  const slopes: number[] = [];
  for (let i = 0; i < n; i++) {
    if (levelsDb[i] > floor + 3 || levelsDb[i] < DIGITAL_SILENCE_DBFS) continue;
    const a = Math.max(0, i - half), b = Math.min(n, i + half + 1);
    if (b - a < 8) continue;
    let st = 0, sy = 0, stt = 0, sty = 0;
    for (let j = a; j < b; j++) {
      const t = j * frameSeconds;
      st += t; sy += smooth[j]; stt += t * t; sty += t * smooth[j];
    }
    const m = b - a;
    slopes.push((m * sty - st * sy) / (m * stt - st * st));
  }
  if (slopes.length < 5) return null;
  slopes.sort((x, y) => x - y);
  return { decayingShare: slopes.filter((x) => x < DECAY_SLOPE_DB_PER_S).length / slopes.length, slopeDbPerSecond: slopes[slopes.length >> 1] };
}

/** True when the quietest parts are a sound dying away (a tail or a fade-out), so the SNR estimate is not a noise level. */
export function quietPartsFade(r: Pick<SignalReport, 'quietFrames'>): boolean {
  return r.quietFrames !== null && r.quietFrames.decayingShare >= MIN_DECAYING_SHARE && r.quietFrames.slopeDbPerSecond < DECAY_SLOPE_DB_PER_S;
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
  const longTerm = new Float64Array(fftLen / 2 + 1);
  for (let s = 0; s + frameLen <= samples.length; s += frameLen) {
    let e = 0;
    for (let i = s; i < s + frameLen; i++) e += samples[i] * samples[i];
    const level = db(Math.sqrt(e / frameLen) + 1e-12);
    rmsDb.push(level);
    if (level < SILENCE_DBFS) silent++;
    else if (rolloffs.length < 3000 && s + fftLen <= samples.length) {
      const power = powerSpectrum(samples.subarray(s, s + fftLen));
      rolloffs.push(rolloffHz(power, sampleRate));
      for (let k = 0; k < power.length; k++) longTerm[k] += power[k];
    }
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
    quietFrames: sorted.length ? quietFrameTrend(rmsDb, floor, frameLen / sampleRate) : null,
    bandwidthHz: rolloffs.length ? rolloffs.reduce((a, b) => a + b, 0) / rolloffs.length : null,
    bandEdgeHz: rolloffs.length ? bandEdgeHz(longTerm, sampleRate) : null,
    silenceRatio: rmsDb.length ? silent / rmsDb.length : 1,
    tempoBpm: tempo.bpm,
    tempoConfidence: tempo.confidence,
  };
}

const fmt = (x: number | null, unit: string, digits = 1): string => (x === null ? 'n/a' : `${x.toFixed(digits)} ${unit}`);

/** A share as a percentage that is never rounded to zero when it is not zero (0.0006 -> "0.06 %"). */
export function percentOf(share: number): string {
  const p = 100 * share;
  if (p === 0) return '0 %';
  if (p >= 0.1) return `${p.toFixed(1)} %`;
  return `${Number(p.toPrecision(1))} %`;
}

/** A plain-language summary for the agent. */
export function describeSignal(r: SignalReport): string {
  return [
    `duration ${r.durationSeconds.toFixed(2)} s`,
    `integrated loudness ${fmt(r.integratedLufs, 'LUFS')}`,
    `true peak ${fmt(r.truePeakDbtp, 'dBTP')}`,
    `clipping ${percentOf(r.clippingRatio)} of samples`,
    `noise floor ${fmt(r.noiseFloorDbfs, 'dBFS')}`,
    `SNR estimate ${fmt(r.snrDb, 'dB')}${quietPartsFade(r) ? ` (not a noise level: the quietest parts are a sound fading at about ${Math.abs(r.quietFrames?.slopeDbPerSecond ?? 0).toFixed(0)} dB/s)` : ''}`,
    `bandwidth (95 % rolloff) ${fmt(r.bandwidthHz, 'Hz', 0)}`,
    `band edge (-40 dB) ${fmt(r.bandEdgeHz, 'Hz', 0)}${r.bandEdgeHz !== null && r.bandEdgeHz <= NARROW_BAND_MAX_HZ ? ' (narrow-band, telephone-like)' : ''}`,
    `silence ${(100 * r.silenceRatio).toFixed(1)} % of the time`,
    r.tempoBpm === null ? 'no steady tempo' : `tempo ${r.tempoBpm.toFixed(1)} BPM (confidence ${r.tempoConfidence.toFixed(2)})`,
  ].join('; ');
}
