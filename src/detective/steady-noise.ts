/**
 * Steady broadband noise (a hiss or rush: white, pink or tape noise, a detuned radio) measured from
 * the signal, so that it is stated as what it is and not as a sound-event class. Whisper's label
 * scores on such a window favour "rain" or "wind" (both are noise-like), but a window that is
 * spectrally broad and does not change over time carries no evidence of water or air: real rain,
 * running water and wind move (drops, gusts, gurgles), and their band levels vary from one 100 ms
 * block to the next far more than the estimation spread of stationary noise.
 *
 * Two measurements over 16 kHz samples, 32 ms Hann frames (hop 16 ms), 1/3-octave bands 125 Hz - 7 kHz:
 *   - broadness: the spectral flatness (geometric over arithmetic mean) of the long-term band power
 *     densities (1 = white, about 0.5 pink, about 0.13 brown noise; a hum or a tone under 0.01);
 *   - steadiness: per band, the standard deviation over 100 ms blocks of the band level (dB); the
 *     median over bands. Stationary Gaussian noise gives about 0.9-1.1 dB (estimation spread alone);
 *     running water, rain recordings, machines and voices 2 dB and more.
 * A window is steady broadband noise when it is at least 0.8 s long (8 blocks), broadness >= 0.1 and
 * steadiness <= 1.5 dB (test/detective/steady-noise.test.ts: synthetic white, pink and brown noise,
 * alsa-utils Noise.wav, Scratch's WaterRunning, Bubbles and DoorCreak).
 */
import { types } from 'node:util';
import { invalidParameterError } from '../errors';
import { RealPowerFft } from '../features/fft';

const FS = 16000;
const N_FFT = 512;
const HOP = 256;
/** Frames per 100 ms block (6 hops of 16 ms). */
const BLOCK = 6;
const LO_HZ = 125;
const HI_HZ = 7000;
/** Mean power per bin below this: too quiet to judge (as ./sound-class.ts). */
const GATE = 1e-7;

export const STEADY_NOISE_MIN_BROADNESS = 0.1;
export const STEADY_NOISE_MAX_SPREAD_DB = 1.5;
export const STEADY_NOISE_MIN_BLOCKS = 8;

export interface NoiseMeasure {
  /** Spectral flatness of the long-term 1/3-octave band densities (0..1). */
  broadness: number;
  /** Median over bands of the standard deviation of 100 ms band levels, dB. */
  spreadDb: number;
  /** 100 ms blocks measured. */
  blocks: number;
  /** broadness, spreadDb and blocks all within the steady-noise bounds. */
  steady: boolean;
}

/** FFT bin edges of the 1/3-octave bands from LO_HZ to HI_HZ (each band at least one bin). */
function bandEdges(): number[] {
  const edges: number[] = [];
  for (let f = LO_HZ; f < HI_HZ; f *= 2 ** (1 / 3)) edges.push(Math.round((f * N_FFT) / FS));
  edges.push(Math.round((HI_HZ * N_FFT) / FS));
  return edges.filter((e, i) => i === 0 || e > edges[i - 1]);
}

function std(v: readonly number[]): number {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length);
}

/** Broadness and steadiness of 16 kHz mono samples [start, end) (see the module comment). */
export function measureNoise(samples: Float32Array, start = 0, end = samples.length): NoiseMeasure {
  if (!types.isFloat32Array(samples)) throw invalidParameterError('samples', 'a Float32Array of 16 kHz samples', samples);
  const edges = bandEdges();
  const nb = edges.length - 1;
  const fft = new RealPowerFft(N_FFT);
  const win = Float64Array.from({ length: N_FFT }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / N_FFT));
  const frame = new Float64Array(N_FFT);
  const power = new Float64Array(fft.bins);
  const frames: Float64Array[] = [];
  const stop = Math.min(end, samples.length);
  for (let s = Math.max(0, start); s + N_FFT <= stop; s += HOP) {
    for (let i = 0; i < N_FFT; i++) frame[i] = samples[s + i] * win[i];
    fft.power(frame, power);
    const bands = new Float64Array(nb);
    for (let k = 0; k < nb; k++) {
      let e = 0;
      for (let j = edges[k]; j < edges[k + 1]; j++) e += power[j];
      bands[k] = e / (edges[k + 1] - edges[k]);
    }
    frames.push(bands);
  }
  const blocks: Float64Array[] = [];
  for (let i = 0; i + BLOCK <= frames.length; i += BLOCK) {
    const b = new Float64Array(nb);
    for (let j = i; j < i + BLOCK; j++) for (let k = 0; k < nb; k++) b[k] += frames[j][k] / BLOCK;
    blocks.push(b);
  }
  const ltas = Array.from({ length: nb }, (_, k) => blocks.reduce((a, b) => a + b[k], 0) / Math.max(1, blocks.length));
  const mean = ltas.reduce((a, v) => a + v, 0) / nb;
  // too short or too quiet to judge (a quiet gap inside the window shows as a large spread)
  if (blocks.length < 2 || mean < GATE) return { broadness: 0, spreadDb: Number.POSITIVE_INFINITY, blocks: blocks.length, steady: false };
  const geo = Math.exp(ltas.reduce((a, v) => a + Math.log(v + 1e-30), 0) / nb);
  const broadness = mean > 0 ? geo / mean : 0;
  const spreads = Array.from({ length: nb }, (_, k) => std(blocks.map((b) => 10 * Math.log10(b[k] + 1e-30)))).sort((a, b) => a - b);
  const spreadDb = spreads[nb >> 1];
  const steady = blocks.length >= STEADY_NOISE_MIN_BLOCKS && broadness >= STEADY_NOISE_MIN_BROADNESS && spreadDb <= STEADY_NOISE_MAX_SPREAD_DB;
  return { broadness: round3(broadness), spreadDb: round3(spreadDb), blocks: blocks.length, steady };
}

const round3 = (x: number): number => Number(x.toFixed(3));
