/** Lazy, once-only loader for the native features addon (no work at import time). */
import * as path from 'node:path';
import { OmnicapError } from '../errors';
import { HOP_LENGTH, N_FFT, NUM_MEL_BINS, SAMPLE_RATE } from './constants';
import { isFeaturesAddon, type FeaturesAddon } from './addon-types';

export type AddonLoadResult = { ok: true; addon: FeaturesAddon; file: string } | { ok: false; error: OmnicapError };

let state: AddonLoadResult | undefined;

/** Candidate locations of the built addon, relative to this file in src/ and in dist/src/. */
export function defaultAddonPaths(): string[] {
  const rel = ['Release', 'Debug'].map((b) => path.join('native', 'build', b, 'omnicap_features.node'));
  const roots = [path.resolve(__dirname, '..', '..'), path.resolve(__dirname, '..', '..', '..')];
  return roots.flatMap((r) => rel.map((p) => path.join(r, p)));
}

/** Try to load the addon from the given files, in order (no caching; see {@link loadFeaturesAddon}). */
export function tryLoadAddon(files: readonly string[] = defaultAddonPaths()): AddonLoadResult {
  const tried: string[] = [];
  let lastError: unknown;
  for (const file of files) {
    tried.push(file);
    let mod: unknown;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      mod = require(file) as unknown;
    } catch (e) {
      lastError = e;
      continue;
    }
    if (!isFeaturesAddon(mod)) {
      return { ok: false, error: new OmnicapError('NATIVE_ADDON_UNAVAILABLE', `native features addon at ${file} does not match the expected interface (abiVersion 1); rebuild it with \`npm run build:native\``) };
    }
    const c = mod.constants;
    if (c.sampleRate !== SAMPLE_RATE || c.nFft !== N_FFT || c.hopLength !== HOP_LENGTH || c.numMelBins !== NUM_MEL_BINS) {
      return { ok: false, error: new OmnicapError('NATIVE_ADDON_UNAVAILABLE', `native features addon at ${file} was built with other constants (${JSON.stringify(c)}); rebuild it with \`npm run build:native\``) };
    }
    return { ok: true, addon: mod, file };
  }
  const why = lastError instanceof Error ? lastError.message.split('\n')[0] : String(lastError);
  return {
    ok: false,
    error: new OmnicapError('NATIVE_ADDON_UNAVAILABLE', `native features addon is not built or failed to load (${why}); build it with \`npm run build:native\` (needs a C++17 compiler, python3 and make; node-gyp uses nodedir from .npmrc), or use backend 'ts'`, {
      details: { tried },
      cause: lastError,
    }),
  };
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
