/**
 * Music vs noise for the non-speech, non-silent parts of a clip (the VAD observer's "sound" time).
 * Two spectral descriptors over 32 ms Hann frames (hop 16 ms, 125 Hz - 7 kHz):
 *   - flatness: geometric / arithmetic mean of the power spectrum (1 = white noise, -> 0 = pure tones);
 *   - tonal stability: how much of a frame's energy sits in spectral peaks that persist into the next
 *     frame (sustained partials of instruments and voices; noise bursts and clicks score low).
 * A stretch is "music" (tonal, sustained sound) when its median flatness is low and its peaks persist,
 * otherwise "noise" (broadband or impulsive sound). Thresholds were calibrated on real recordings
 * (audio-lena music, alsa-utils Noise.wav, freedesktop sound-theme effects); see test/detective/sound-class.test.ts.
 */
import { types } from 'node:util';
import { RealPowerFft } from '../features/fft';
import { invalidParameterError } from '../errors';

export type SoundClass = 'music' | 'noise';

export interface SoundFeatures {
  /** Median spectral flatness over the analysed frames (0..1). */
  flatness: number;
  /** Median share of frame energy in peaks that persist into the next frame (0..1). */
  tonalStability: number;
  /** Frames analysed (frames below the energy gate are skipped). */
  frames: number;
}

const N_FFT = 512;
const HOP = 256;
const LO_BIN = 4; // 125 Hz at 16 kHz
const HI_BIN = 224; // 7 kHz
const GATE = 1e-7; // mean power per bin below this: too quiet to judge

export const MUSIC_MAX_FLATNESS = 0.1;
export const MUSIC_MIN_TONAL_STABILITY = 0.5;

function median(v: number[]): number {
  if (v.length === 0) return Number.NaN;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Local maxima at least 10 dB over the frame's median bin power. */
function peaks(p: Float64Array, med: number): Set<number> {
  const out = new Set<number>();
  for (let k = LO_BIN + 1; k < HI_BIN - 1; k++) if (p[k] > p[k - 1] && p[k] >= p[k + 1] && p[k] > 10 * med) out.add(k);
  return out;
}

/** Spectral descriptors of 16 kHz mono samples [start, end). */
export function soundFeatures(samples: Float32Array, start = 0, end = samples.length): SoundFeatures {
  if (!types.isFloat32Array(samples)) throw invalidParameterError('samples', 'a Float32Array of 16 kHz samples', samples);
  const fft = new RealPowerFft(N_FFT);
  const win = new Float64Array(N_FFT);
  for (let i = 0; i < N_FFT; i++) win[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N_FFT);
  const frame = new Float64Array(N_FFT);
  const cur = new Float64Array(fft.bins);
  let prevPeaks: Set<number> | undefined;
  const flat: number[] = [];
  const stable: number[] = [];
  for (let s = Math.max(0, start); s + N_FFT <= Math.min(end, samples.length); s += HOP) {
    for (let i = 0; i < N_FFT; i++) frame[i] = samples[s + i] * win[i];
    fft.power(frame, cur);
    let sum = 0;
    let logSum = 0;
    const band: number[] = [];
    for (let k = LO_BIN; k < HI_BIN; k++) {
      const v = cur[k] + 1e-20;
      sum += v;
      logSum += Math.log(v);
      band.push(v);
    }
    const n = HI_BIN - LO_BIN;
    const mean = sum / n;
    if (mean < GATE) {
      prevPeaks = undefined;
      continue;
    }
    flat.push(Math.exp(logSum / n) / mean);
    const pk = peaks(cur, median(band));
    if (prevPeaks !== undefined) {
      let e = 0;
      for (const k of pk) if (prevPeaks.has(k) || prevPeaks.has(k - 1) || prevPeaks.has(k + 1)) e += cur[k - 1] + cur[k] + cur[k + 1];
      stable.push(Math.min(1, e / sum));
    }
    prevPeaks = pk;
  }
  return { flatness: median(flat), tonalStability: stable.length ? median(stable) : 0, frames: flat.length };
}

/** music | noise for a stretch of sound, or undefined when it is too short or too quiet to judge. */
export function classifySound(f: SoundFeatures): SoundClass | undefined {
  if (f.frames < 8 || !Number.isFinite(f.flatness)) return undefined;
  return f.flatness <= MUSIC_MAX_FLATNESS && f.tonalStability >= MUSIC_MIN_TONAL_STABILITY ? 'music' : 'noise';
}
