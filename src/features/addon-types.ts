/**
 * The one typed view of the native addon (native/src/addon.cc). Everything JS calls on the
 * addon goes through this interface; keep it in sync with Init() in addon.cc.
 */
export interface AddonLogMelResult {
  /** [numMelBins, frames] row-major float32. */
  data: Float32Array;
  frames: number;
  numMelBins: number;
}

export interface FeaturesAddon {
  /** Synchronous compute on the calling thread (small inputs). Input is copied. */
  logMelSync(samples: Float32Array): AddonLogMelResult;
  /** Copies the input on the main thread, computes on the libuv pool (Napi::AsyncWorker). */
  logMel(samples: Float32Array): Promise<AddonLogMelResult>;
  readonly constants: { sampleRate: number; nFft: number; hopLength: number; numMelBins: number };
  readonly abiVersion: number;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Structural check of a loaded module against {@link FeaturesAddon}. */
export function isFeaturesAddon(v: unknown): v is FeaturesAddon {
  return (
    isObject(v) &&
    typeof v.logMelSync === 'function' &&
    typeof v.logMel === 'function' &&
    isObject(v.constants) &&
    v.abiVersion === 1
  );
}
