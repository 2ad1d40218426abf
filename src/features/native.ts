/** Lazy, once-only loader of the native features addon (src/native; no work at import time). */
import { loadAddon, ADDONS, type AddonLoadResult, type FeaturesAddon } from '../native';
import { OmnicapError } from '../errors';
import { HOP_LENGTH, N_FFT, NUM_MEL_BINS, SAMPLE_RATE } from './constants';

let state: AddonLoadResult<FeaturesAddon> | undefined;

/**
 * Load the addon from the given files (default native/build/Release, Debug), probing it in a
 * child process with one small log-mel first, and check it was built with this code's constants
 * (no caching here; see {@link loadFeaturesAddon}).
 */
export function tryLoadAddon(files?: readonly string[]): AddonLoadResult<FeaturesAddon> {
  const r = loadAddon(ADDONS.features, { files, probeCall: { method: 'logMelSync', arg: { float32: N_FFT * 4 } } });
  if (!r.ok) return r;
  const c = r.addon.constants;
  if (c.sampleRate !== SAMPLE_RATE || c.nFft !== N_FFT || c.hopLength !== HOP_LENGTH || c.numMelBins !== NUM_MEL_BINS) {
    return { ok: false, error: new OmnicapError('NATIVE_ADDON_UNAVAILABLE', `native features addon at ${r.file} was built with other constants (${JSON.stringify(c)}); rebuild it with \`npm run build:native\``) };
  }
  return r;
}

/** The addon, loaded on first call; throws NATIVE_ADDON_UNAVAILABLE (cached) if it cannot load. */
export function loadFeaturesAddon(): FeaturesAddon {
  state ??= tryLoadAddon();
  if (!state.ok) throw state.error;
  return state.addon;
}

/** True if the addon loads (loads it on first call). */
export function isNativeAvailable(): boolean {
  state ??= tryLoadAddon();
  return state.ok;
}
