/**
 * Log-mel features exactly as the Qwen3-Omni audio processor computes them
 * (WhisperFeatureExtractor, 128 mels, n_fft 400, hop 160, no padding to 30 s).
 * See docs/features.md.
 */
import { throwIfAborted } from '../util/abort';
import { NUM_MEL_BINS, type LogMelFeatures, type LogMelOptions } from './constants';
import { TsLogMel } from './mel-ts';
import { isNativeAvailable, loadFeaturesAddon } from './native';
import { validateBackend, validateSamples } from './validate';

export * from './constants';
export { isNativeAvailable } from './native';
export { validateBackend, validateSamples } from './validate';
export { tryLoadAddon } from './native';
export type { FeaturesAddon, AddonLogMelResult } from '../native';
export { melFilterBankDense } from './mel-filters';

let tsImpl: TsLogMel | undefined;

/** Number of mel frames for L samples: floor(L / 160). */
export function frameCount(numSamples: number): number {
  return Math.floor(numSamples / 160);
}

/**
 * Compute [128, frames] log-mel of 16 kHz mono float32 samples. backend 'native' (C++ addon on the
 * libuv pool), 'ts' (pure TypeScript, on the calling thread) or 'auto' (native if it loads).
 */
export async function computeLogMel(samples: Float32Array, options: LogMelOptions = {}): Promise<LogMelFeatures> {
  const backend = validateBackend(options.backend);
  validateSamples(samples, options.sampleRate);
  const { signal } = options;
  throwIfAborted(signal);
  const useNative = backend === 'native' || (backend === 'auto' && isNativeAvailable());
  if (useNative) {
    const addon = loadFeaturesAddon();
    const r = await addon.logMel(samples);
    throwIfAborted(signal);
    return { data: r.data, numMelBins: NUM_MEL_BINS, frames: r.frames, backend: 'native' };
  }
  tsImpl ??= new TsLogMel();
  const r = tsImpl.compute(samples, signal);
  return { data: r.data, numMelBins: NUM_MEL_BINS, frames: r.frames, backend: 'ts' };
}

/** Synchronous variant (native sync call or TS) for small inputs; same validation. */
export function computeLogMelSync(samples: Float32Array, options: Omit<LogMelOptions, 'signal'> = {}): LogMelFeatures {
  const backend = validateBackend(options.backend);
  validateSamples(samples, options.sampleRate);
  if (backend === 'native' || (backend === 'auto' && isNativeAvailable())) {
    const r = loadFeaturesAddon().logMelSync(samples);
    return { data: r.data, numMelBins: NUM_MEL_BINS, frames: r.frames, backend: 'native' };
  }
  tsImpl ??= new TsLogMel();
  const r = tsImpl.compute(samples);
  return { data: r.data, numMelBins: NUM_MEL_BINS, frames: r.frames, backend: 'ts' };
}
