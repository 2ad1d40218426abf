/**
 * Pure-TypeScript reference log-mel (Qwen3-Omni / WhisperFeatureExtractor semantics):
 * centred STFT (reflect pad n_fft/2), periodic Hann, |X|^2, last frame dropped,
 * Slaney mel filters, log10(max(x, 1e-10)), clamp to max - 8, (x + 4) / 4.
 * float64 accumulation throughout; float32 output [128, frames] mel-major.
 */
import { throwIfAborted } from '../util/abort';
import { HOP_LENGTH, N_FFT, NUM_MEL_BINS } from './constants';
import { RealPowerFft } from './fft';
import { melFilterBankSparse, type SparseMelFilters } from './mel-filters';

/** numpy 'reflect' padding index for any out-of-range i (period 2(L-1)). */
export function reflectIndex(i: number, length: number): number {
  if (length === 1) return 0;
  const period = 2 * (length - 1);
  let j = i % period;
  if (j < 0) j += period;
  return j < length ? j : period - j;
}

/** Periodic Hann window of length n (torch.hann_window(n, periodic=True)). */
export function periodicHann(n: number): Float64Array {
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / n);
  return w;
}

interface TsState {
  fft: RealPowerFft;
  window: Float64Array;
  filters: SparseMelFilters;
}

/** Precomputed tables for the TS backend; build once and reuse. */
export class TsLogMel {
  private state: TsState | undefined;

  private tables(): TsState {
    if (this.state === undefined) {
      this.state = { fft: new RealPowerFft(N_FFT), window: periodicHann(N_FFT), filters: melFilterBankSparse() };
    }
    return this.state;
  }

  /** samples must be validated by the caller (>= 160 finite-length float32 samples at 16 kHz). */
  compute(samples: Float32Array, signal?: AbortSignal): { data: Float32Array; frames: number } {
    const { fft, window, filters } = this.tables();
    const L = samples.length;
    const frames = Math.floor(L / HOP_LENGTH);
    const pad = N_FFT / 2;
    const logSpec = new Float64Array(NUM_MEL_BINS * frames);
    const frame = new Float64Array(N_FFT);
    const power = new Float64Array(fft.bins);
    let maxVal = -Infinity;
    for (let t = 0; t < frames; t++) {
      if ((t & 255) === 0) throwIfAborted(signal);
      const base = t * HOP_LENGTH - pad;
      if (base >= 0 && base + N_FFT <= L) {
        for (let i = 0; i < N_FFT; i++) frame[i] = samples[base + i] * window[i];
      } else {
        for (let i = 0; i < N_FFT; i++) frame[i] = samples[reflectIndex(base + i, L)] * window[i];
      }
      fft.power(frame, power);
      for (let m = 0; m < NUM_MEL_BINS; m++) {
        const st = filters.start[m];
        const len = filters.length[m];
        const off = filters.offset[m];
        let acc = 0;
        for (let k = 0; k < len; k++) acc += filters.weights[off + k] * power[st + k];
        const v = Math.log10(acc > 1e-10 ? acc : 1e-10);
        logSpec[m * frames + t] = v;
        if (v > maxVal) maxVal = v;
      }
    }
    const floor = maxVal - 8.0;
    const data = new Float32Array(NUM_MEL_BINS * frames);
    for (let i = 0; i < data.length; i++) {
      const v = logSpec[i];
      data[i] = ((v > floor ? v : floor) + 4.0) / 4.0;
    }
    return { data, frames };
  }
}
