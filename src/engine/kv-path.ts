/**
 * Where the decoder's KV cache lives, decided once per loaded model:
 *  - 'resident': the resident-KV addon (native/src/ort) runs the decoder with ORT IO binding; the
 *    cache stays in ORT-owned memory (host on CPU, device on CUDA) and only logits reach JS.
 *  - 'js': onnxruntime-node runs the decoder and returns every present.* tensor as a JS buffer
 *    that is fed back as the next past (the binding copies it once per step).
 * 'auto' picks 'resident' whenever it can and says why when it cannot.
 */
import { OmnicapError, invalidParameterError } from '../errors';
import type { ResolvedProvider } from './provider';
import type { ResidentLoadResult, ResidentRuntime } from './resident/native';

export type KvRequest = 'auto' | 'resident' | 'js';
/** grow: ORT allocates present.* each step; shared: capacity-sized buffers written in place (GQA, CPU). */
export type KvLayout = 'grow' | 'shared';

export interface KvCacheInfo {
  path: 'resident' | 'js';
  layout?: KvLayout;
  /** Why this path (the request, or what ruled the other out). */
  reason: string;
  ortVersion?: string;
}

export interface KvPathFacts {
  batching: boolean;
  embedsDtype: string;
  provider: ResolvedProvider;
  gqa: boolean;
  load: () => ResidentLoadResult;
}

export type KvChoice = { path: 'js'; info: KvCacheInfo } | { path: 'resident'; runtime: ResidentRuntime; info: KvCacheInfo };

export function parseKvRequest(value: unknown): KvRequest {
  if (value === undefined) return 'auto';
  if (value === 'auto' || value === 'resident' || value === 'js') return value;
  throw invalidParameterError('kv', '"auto" | "resident" | "js"', value);
}

export function selectKvPath(request: KvRequest, facts: KvPathFacts): KvChoice {
  if (request === 'js') return { path: 'js', info: { path: 'js', reason: 'requested (kv "js")' } };
  const refuse = (why: string, code: 'INVALID_ARGUMENT' | 'MODEL_INVALID' = 'INVALID_ARGUMENT'): KvChoice => {
    if (request === 'resident') throw new OmnicapError(code, `kv "resident" is not possible: ${why}; use kv "auto" or "js"`, { details: { parameter: 'kv' } });
    return { path: 'js', info: { path: 'js', reason: why } };
  };
  if (facts.batching) return refuse('batched decoding packs the JS-side cache of its rows');
  if (facts.embedsDtype !== 'float32') return refuse(`the decoder's inputs_embeds is ${facts.embedsDtype} (the resident path feeds float32)`, 'MODEL_INVALID');
  const loaded = facts.load();
  if (!loaded.ok) {
    if (request === 'resident') throw loaded.error;
    return { path: 'js', info: { path: 'js', reason: loaded.error.message } };
  }
  const layout: KvLayout = facts.provider === 'cpu' && facts.gqa ? 'shared' : 'grow';
  const why = layout === 'shared' ? 'GroupQueryAttention graph on CPU: capacity buffers updated in place' : facts.gqa ? 'device-resident cache on CUDA (present.* bound to the device)' : 'Concat-attention graph: ORT allocates present.* and it is fed back without a JS copy';
  return { path: 'resident', runtime: loaded.runtime, info: { path: 'resident', layout, reason: request === 'resident' ? `requested; ${why}` : why, ortVersion: loaded.runtime.ortVersion } };
}
