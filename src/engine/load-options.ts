/** Options of loadCaptioner (shared by the in-thread engine, the worker-thread engine and their protocol). */
import type { BatchOptions } from './batcher';
import type { FeatureBackend } from './frontend';
import type { KvRequest } from './kv-path';
import type { ProviderRequest } from './provider';

export interface LoadCaptionerOptions {
  provider?: ProviderRequest;
  /** intra-op threads per session (default: ORT's, one per physical core; docs/engine.md#threads). */
  threads?: number;
  /** Let idle ORT intra-op threads spin-wait for work (default false, measured: docs/engine.md#threads). */
  spinning?: boolean;
  /** Log-mel implementation (default 'auto'). */
  featureBackend?: FeatureBackend;
  /** Skip sha256 verification of model files (sizes are still checked). Default false. */
  skipChecksums?: boolean;
  /**
   * Batch the decode steps of concurrent generations (continuous batching, see batcher.ts). Off by
   * default: one generation's output is the same either way (checked in test/engine/batch.test.ts).
   */
  batch?: BatchOptions;
  /**
   * Where the ORT sessions run: 'main' (default) on the calling thread, whose event loop then waits
   * for every prefill and decode step; 'worker' on a worker_thread (see worker-captioner.ts), the
   * choice for servers. Outputs are identical (test/engine/worker.test.ts).
   */
  runtime?: EngineRuntime;
  /**
   * Where the decoder's KV cache lives between steps (kv-path.ts): 'resident' keeps it in
   * ORT-owned memory through the native IO-binding addon (only logits reach JS), 'js' uses
   * onnxruntime-node's tensors, 'auto' (default) takes 'resident' when the addon loads and batching
   * is off. Outputs are identical (test/engine/resident.test.ts); the choice is reported as `kvCache`.
   */
  kv?: KvRequest;
  /**
   * Under provider cuda, load even when ONNX Runtime would place some nodes on the CPU EP, and load
   * a build exported for the other provider (default false: both fail with a typed error; docs/gpu.md).
   */
  allowCpuFallback?: boolean;
  signal?: AbortSignal;
}

export type EngineRuntime = 'main' | 'worker';
