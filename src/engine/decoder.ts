/**
 * One generation's decoder state: prefill over the prompt embeddings, then one-token steps.
 */
import { OmnicapError, disposedError } from '../errors';
import { embedTokens, runFailed } from './embed';
import { KvCache } from './kv-cache';
import type { ModelManifest } from './manifest';
import { ort, tensorToFloat32, type OrtTensor } from './ort';
import { ResidentDecoderState } from './resident/decoder';
import type { JsKvSessions, ModelSessions } from './sessions';

export { embedTokens } from './embed';

/** One generation's decoder, whichever path holds its KV cache (kv-path.ts). */
export interface EngineDecoder {
  /** Tokens held in the cache. */
  readonly length: number;
  /** Run the decoder over `embeds` [1, seq, hidden]; returns the last position's logits (float32, length vocab). */
  forward(embeds: OrtTensor): Promise<Float32Array>;
  /** Embed one token and run a decode step. */
  step(tokenId: number): Promise<Float32Array>;
  dispose(): void;
}

/** A fresh decoder with its own KV cache on the sessions' path. */
export function createDecoder(sessions: ModelSessions, manifest: ModelManifest): EngineDecoder {
  return sessions.kv === 'resident' ? new ResidentDecoderState(sessions, manifest) : new DecoderState(sessions, manifest);
}

/** The JS-cache path: present.* come back as onnxruntime-node tensors and are fed back as past. */
export class DecoderState implements EngineDecoder {
  readonly cache: KvCache;
  private readonly positions = new BigInt64Array(1);
  private readonly hidden: number;
  private readonly vocab: number;
  private disposed = false;

  constructor(
    private readonly sessions: JsKvSessions,
    manifest: ModelManifest,
  ) {
    const t = manifest.config.text;
    this.hidden = t.hiddenSize;
    this.vocab = t.vocabSize;
    this.cache = new KvCache(sessions.decoderPlan, t.numKvHeads, t.headDim);
  }

  get length(): number {
    return this.cache.length;
  }

  async forward(embeds: OrtTensor): Promise<Float32Array> {
    if (this.disposed) throw disposedError('the decoder state');
    const seq = embeds.dims[1];
    if (embeds.dims.length !== 3 || embeds.dims[2] !== this.hidden) {
      throw new OmnicapError('MODEL_RUN_FAILED', `inputs_embeds has dims [${embeds.dims.join(', ')}], expected [1, seq, ${this.hidden}]`);
    }
    const past = this.cache.length;
    const plan = this.sessions.decoderPlan;
    const { Tensor } = ort();
    const feeds: Record<string, OrtTensor> = { inputs_embeds: embeds };
    if (plan.hasAttentionMask) feeds.attention_mask = this.cache.attentionMask(past + seq);
    if (plan.hasPositionIds) {
      let pos: BigInt64Array;
      if (seq === 1) {
        this.positions[0] = BigInt(past);
        pos = this.positions;
      } else {
        pos = new BigInt64Array(seq);
        for (let i = 0; i < seq; i++) pos[i] = BigInt(past + i);
      }
      feeds.position_ids = new Tensor('int64', pos, [1, seq]);
    }
    this.cache.addPast(feeds);
    let out: Record<string, OrtTensor>;
    try {
      out = (await this.sessions.decoder.run(feeds)) as Record<string, OrtTensor>;
      this.cache.update(out, seq);
    } catch (e) {
      throw runFailed(`decoder step at position ${past}`, e);
    }
    const logits = out.logits;
    if (logits === undefined) throw new OmnicapError('MODEL_RUN_FAILED', 'decoder returned no logits output');
    // [1, seq, vocab] or (last-position-only exports) [1, 1, vocab] / [1, vocab]
    const vocab = logits.dims[logits.dims.length - 1];
    const rows = logits.size / vocab;
    if (vocab !== this.vocab) throw new OmnicapError('MODEL_RUN_FAILED', `decoder logits have vocab ${vocab} but manifest config.text.vocabSize is ${this.vocab}`);
    const all = tensorToFloat32(logits);
    return all.subarray((rows - 1) * vocab, rows * vocab);
  }

  async step(tokenId: number): Promise<Float32Array> {
    const e = await embedTokens(this.sessions, [tokenId]);
    return this.forward(e);
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.cache.dispose();
  }
}
