/** Fixed front-end parameters of the Qwen3-Omni audio processor (WhisperFeatureExtractor preprocessor_config). */
export const SAMPLE_RATE = 16000;
export const N_FFT = 400;
export const HOP_LENGTH = 160;
export const NUM_MEL_BINS = 128;
export const NUM_FREQ_BINS = N_FFT / 2 + 1; // 201
export const MIN_FREQUENCY = 0;
export const MAX_FREQUENCY = 8000;
/** Fewest samples that yield one frame (frames = floor(L / hop)). */
export const MIN_SAMPLES = HOP_LENGTH;
/** Largest accepted clip: 1 hour at 16 kHz (bounds memory of one call). */
export const MAX_SAMPLES = 3600 * SAMPLE_RATE;

export type FeatureBackend = 'native' | 'ts' | 'auto';

/** Log-mel features, [numMelBins, frames] row-major (mel-major) float32, as the audio encoder consumes. */
export interface LogMelFeatures {
  data: Float32Array;
  numMelBins: typeof NUM_MEL_BINS;
  frames: number;
  /** Which implementation computed them. */
  backend: 'native' | 'ts';
}

export interface LogMelOptions {
  /** Default 'auto': the native addon if it loads, else the pure-TS implementation. */
  backend?: FeatureBackend;
  /** Sample rate of `samples`; only 16000 is accepted (resample first). */
  sampleRate?: number;
  signal?: AbortSignal;
}
