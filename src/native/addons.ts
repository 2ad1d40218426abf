/**
 * The one typed view of the project's native addons (built by `npm run build:native` from
 * native/src): the log-mel features addon (native/src/addon.cc) and the resident-KV addon
 * (native/src/ort/ort_addon.cc). Everything JS calls on them goes through these interfaces; keep
 * them in sync with the addons' Init functions. {@link ADDONS} names each binary and its
 * structural check; src/native/loader.ts loads them.
 */
import { isRecord } from '../util/guards';

// ---- omnicap_features.node -------------------------------------------------------------------

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

/** Structural check of a loaded module against {@link FeaturesAddon}. */
export function isFeaturesAddon(v: unknown): v is FeaturesAddon {
  return isRecord(v) && typeof v.logMelSync === 'function' && typeof v.logMel === 'function' && isRecord(v.constants) && typeof v.abiVersion === 'number';
}

// ---- omnicap_ort.node (resident KV cache) ---------------------------------------------------

/** ONNX TensorProto element types the addon uses (its `elementTypes` must report the same). */
export const ELEMENT_TYPE = { float32: 1, int64: 7, float16: 10 } as const;

export interface NativeTensorInfo {
  name: string;
  /** ONNX TensorProto element type (1 float32, 7 int64, 10 float16). */
  elementType: number;
  /** -1 for a symbolic dimension. */
  dims: number[];
}

export interface NativeKvConfig {
  /** past_key_values.{i}.key, .value per layer, in that order. */
  past: string[];
  /** present.{i}.key, .value per layer, same order. */
  present: string[];
  /** '' when the graph has no attention_mask / position_ids input. */
  maskName: string;
  positionsName: string;
  kvHeads: number;
  headDim: number;
  hidden: number;
  vocab: number;
  maxLength: number;
  kvElementType: number;
  /** Capacity-sized past/present buffers updated in place (GroupQueryAttention graphs, CPU). */
  shared: boolean;
}

export interface NativeKvState {
  /** Decoder over `seq` positions of `embeds` ([seq, hidden]); resolves the last position's logits. Input is copied. */
  forward(embeds: Float32Array, seq: number): Promise<Float32Array>;
  length(): number;
  /** Capacity of the shared layout's buffers (0 for the grow layout or before the prefill). */
  capacity(): number;
  reset(): void;
  /** Stop a running forward() as soon as ORT checks (RunOptions terminate); later forward() calls reject. */
  terminate(): void;
  /** Release the cache (a running forward() is terminated and releases it when it settles). */
  dispose(): void;
}

export interface NativeSession {
  inputs(): NativeTensorInfo[];
  outputs(): NativeTensorInfo[];
  createState(config: NativeKvConfig): NativeKvState;
  /** Drop the session; states already created keep it alive until they are disposed. */
  release(): void;
}

export interface NativeLoadOptions {
  /** intra-op threads (0 = ORT's default). */
  threads: number;
  spinning: boolean;
  provider: 'cpu' | 'cuda';
  deviceId: number;
}

export interface ResidentAddon {
  /** Load onnxruntime's C API from the library onnxruntime-node ships (once per process). */
  init(libraryPath: string): { version: string; apiVersion: number; libraryPath: string };
  loadSession(path: string, options: NativeLoadOptions): Promise<NativeSession>;
  /** Native sessions and KV states alive in this process (leak checks). */
  stats(): { sessions: number; states: number };
  readonly abiVersion: number;
  readonly elementTypes: { float32: number; int64: number; float16: number };
}

/** Structural check of a loaded module against {@link ResidentAddon}. */
export function isResidentAddon(v: unknown): v is ResidentAddon {
  return isRecord(v) && typeof v.init === 'function' && typeof v.loadSession === 'function' && typeof v.stats === 'function' && typeof v.abiVersion === 'number' && isRecord(v.elementTypes);
}

// ---- the addons --------------------------------------------------------------------------------

/** A native addon: its binary's file name under native/build/<Release|Debug>/ and its type check. */
export interface AddonSpec<T> {
  /** What messages call it ("native features addon"). */
  label: string;
  file: string;
  /** The abiVersion this code expects (the addon exports it). */
  abiVersion: number;
  /** What works without the addon (said in every load error). */
  fallback: string;
  is(v: unknown): v is T;
}

export const ADDONS: { readonly features: AddonSpec<FeaturesAddon>; readonly resident: AddonSpec<ResidentAddon> } = {
  features: { label: 'native features addon', file: 'omnicap_features.node', abiVersion: 1, fallback: "use backend 'ts'", is: isFeaturesAddon },
  resident: { label: 'resident-KV addon', file: 'omnicap_ort.node', abiVersion: 1, fallback: 'use --kv js', is: isResidentAddon },
};
