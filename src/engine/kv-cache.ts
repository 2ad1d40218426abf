/**
 * KV cache for the decoder. onnxruntime-node 1.30 copies every output into a fresh JS buffer
 * (also when a preallocated output tensor is passed in `fetches`: ORT writes into it and the
 * binding still returns a copy — measured, see docs/engine.md), so the cheapest loop feeds ORT's
 * `present.*` tensors straight back as the next step's `past_key_values.*` without touching them
 * in JS. The attention mask lives in one int64 buffer that grows by doubling and is fed as a view.
 */
import { ort, type OrtTensor } from './ort';
import type { DecoderPlan } from './sessions';

export class KvCache {
  private past: OrtTensor[] = [];
  private mask: BigInt64Array;
  /** Tokens held in the cache. */
  length = 0;

  constructor(
    private readonly plan: DecoderPlan,
    private readonly kvHeads: number,
    private readonly headDim: number,
    initialCapacity = 256,
  ) {
    this.mask = new BigInt64Array(initialCapacity).fill(1n);
    this.reset();
  }

  reset(): void {
    const { Tensor } = ort();
    const empty = (): OrtTensor =>
      this.plan.kvDtype === 'float16'
        ? new Tensor('float16', new Uint16Array(0), [1, this.kvHeads, 0, this.headDim])
        : new Tensor('float32', new Float32Array(0), [1, this.kvHeads, 0, this.headDim]);
    this.past = [];
    for (let i = 0; i < this.plan.numLayers * 2; i++) this.past.push(empty());
    this.length = 0;
  }

  /** attention_mask [1, total] of ones, as a view over the amortised buffer. */
  attentionMask(total: number): OrtTensor {
    if (total > this.mask.length) {
      let cap = this.mask.length;
      while (cap < total) cap *= 2;
      this.mask = new BigInt64Array(cap).fill(1n);
    }
    return new (ort().Tensor)('int64', this.mask.subarray(0, total), [1, total]);
  }

  /** The cache's tensors [1, H, length, D], key then value per layer (batched decoding copies them). */
  pastTensors(): readonly OrtTensor[] {
    return this.past;
  }

  /** Add past_key_values.* to `feeds`. */
  addPast(feeds: Record<string, OrtTensor>): void {
    const p = this.plan;
    for (let i = 0; i < p.numLayers; i++) {
      feeds[p.pastKey[i]] = this.past[2 * i];
      feeds[p.pastValue[i]] = this.past[2 * i + 1];
    }
  }

  /** Take ORT's present.* outputs as the new past (no copy). */
  update(outputs: Record<string, OrtTensor>, newTokens: number): void {
    const p = this.plan;
    for (let i = 0; i < p.numLayers; i++) {
      const k = outputs[p.presentKey[i]];
      const v = outputs[p.presentValue[i]];
      const expected = this.length + newTokens;
      if (k === undefined || v === undefined || k.dims[2] !== expected || v.dims[2] !== expected) {
        throw new RangeError(`present.${i} has ${k?.dims.join('x') ?? 'no'} dims, expected past length ${expected}`);
      }
      this.past[2 * i] = k;
      this.past[2 * i + 1] = v;
    }
    this.length += newTokens;
  }

  dispose(): void {
    for (const t of this.past) t.dispose();
    this.past = [];
    this.length = 0;
  }
}
