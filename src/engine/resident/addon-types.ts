/**
 * The one typed view of the resident-KV addon (native/src/ort/ort_addon.cc). Everything JS calls
 * on it goes through this interface; keep it in sync with InitModule() there.
 */
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

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

/** Structural check of a loaded module against {@link ResidentAddon}. */
export function isResidentAddon(v: unknown): v is ResidentAddon {
  return isObject(v) && typeof v.init === 'function' && typeof v.loadSession === 'function' && typeof v.stats === 'function' && v.abiVersion === 1 && isObject(v.elementTypes);
}
