/**
 * Slaney-scale, Slaney-normalised triangular mel filter bank, computed exactly like
 * transformers' `audio_utils.mel_filter_bank(num_frequency_bins=201, num_mel_filters=128,
 * min_frequency=0, max_frequency=8000, sampling_rate=16000, norm='slaney', mel_scale='slaney')`
 * (float64), stored sparsely: each filter is non-zero on a contiguous run of FFT bins.
 */
import { MAX_FREQUENCY, MIN_FREQUENCY, NUM_FREQ_BINS, NUM_MEL_BINS, SAMPLE_RATE } from './constants';

const MIN_LOG_HERTZ = 1000.0;
const MIN_LOG_MEL = 15.0;

export function hertzToMelSlaney(freq: number): number {
  if (freq >= MIN_LOG_HERTZ) return MIN_LOG_MEL + Math.log(freq / MIN_LOG_HERTZ) * (27.0 / Math.log(6.4));
  return (3.0 * freq) / 200.0;
}

export function melToHertzSlaney(mel: number): number {
  if (mel >= MIN_LOG_MEL) return MIN_LOG_HERTZ * Math.exp((Math.log(6.4) / 27.0) * (mel - MIN_LOG_MEL));
  return (200.0 * mel) / 3.0;
}

/** numpy.linspace(start, stop, num) with endpoint=True. */
function linspace(start: number, stop: number, num: number): Float64Array {
  const out = new Float64Array(num);
  const step = (stop - start) / (num - 1);
  for (let i = 0; i < num; i++) out[i] = i * step + start;
  out[num - 1] = stop;
  return out;
}

export interface SparseMelFilters {
  numMelBins: number;
  numFreqBins: number;
  /** First FFT bin of filter m. */
  start: Int32Array;
  /** Number of bins of filter m. */
  length: Int32Array;
  /** Offset of filter m's weights in `weights`. */
  offset: Int32Array;
  weights: Float64Array;
}

/** Dense [numFreqBins, numMelBins] matrix (transformers' layout), float64. */
export function melFilterBankDense(): Float64Array {
  const nMel = NUM_MEL_BINS;
  const nFreq = NUM_FREQ_BINS;
  const melFreqs = linspace(hertzToMelSlaney(MIN_FREQUENCY), hertzToMelSlaney(MAX_FREQUENCY), nMel + 2);
  const filterFreqs = melFreqs.map(melToHertzSlaney);
  const fftFreqs = linspace(0, Math.floor(SAMPLE_RATE / 2), nFreq);
  const out = new Float64Array(nFreq * nMel);
  for (let f = 0; f < nFreq; f++) {
    for (let m = 0; m < nMel; m++) {
      const down = -(filterFreqs[m] - fftFreqs[f]) / (filterFreqs[m + 1] - filterFreqs[m]);
      const up = (filterFreqs[m + 2] - fftFreqs[f]) / (filterFreqs[m + 2] - filterFreqs[m + 1]);
      const tri = Math.max(0, Math.min(down, up));
      const enorm = 2.0 / (filterFreqs[m + 2] - filterFreqs[m]);
      out[f * nMel + m] = tri * enorm;
    }
  }
  return out;
}

export function melFilterBankSparse(): SparseMelFilters {
  const dense = melFilterBankDense();
  const nMel = NUM_MEL_BINS;
  const nFreq = NUM_FREQ_BINS;
  const start = new Int32Array(nMel);
  const length = new Int32Array(nMel);
  const offset = new Int32Array(nMel);
  const weights: number[] = [];
  for (let m = 0; m < nMel; m++) {
    let first = -1;
    let last = -1;
    for (let f = 0; f < nFreq; f++) {
      if (dense[f * nMel + m] !== 0) {
        if (first < 0) first = f;
        last = f;
      }
    }
    offset[m] = weights.length;
    if (first < 0) continue; // an all-zero filter contributes 0 (log clamps it)
    start[m] = first;
    length[m] = last - first + 1;
    for (let f = first; f <= last; f++) weights.push(dense[f * nMel + m]);
  }
  return { numMelBins: nMel, numFreqBins: nFreq, start, length, offset, weights: Float64Array.from(weights) };
}
