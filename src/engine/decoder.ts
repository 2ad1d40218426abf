/**
 * One generation's decoder state: prefill over the prompt embeddings, then one-token steps.
 */
import { OmnicapError } from '../errors';
import { KvCache } from './kv-cache';
import type { ModelManifest } from './manifest';
import { ort, tensorToFloat32, type OrtTensor } from './ort';
import type { ModelSessions } from './sessions';

function runFailed(what: string, e: unknown): OmnicapError {
  if (e instanceof OmnicapError) return e;
  return new OmnicapError('MODEL_RUN_FAILED', `${what} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

/** Embed token ids with the embed session: returns inputs_embeds [1, n, hidden]. */
export async function embedTokens(sessions: ModelSessions, ids: readonly number[]): Promise<OrtTensor> {
  const input = new BigInt64Array(ids.length);
  for (let i = 0; i < ids.length; i++) input[i] = BigInt(ids[i]);
  try {
    const out = await sessions.embed.run({ input_ids: new (ort().Tensor)('int64', input, [1, ids.length]) });
    const e = out.inputs_embeds;
    if (e === undefined) throw new Error('no inputs_embeds output');
    return e;
  } catch (e) {
    throw runFailed('embed session', e);
  }
}

export class DecoderState {
  readonly cache: KvCache;
  private readonly positions = new BigInt64Array(1);
  private readonly hidden: number;
  private readonly vocab: number;

  constructor(
    private readonly sessions: ModelSessions,
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

  /** Run the decoder over `embeds` [1, seq, hidden]; returns the last position's logits (float32, length vocab). */
  async forward(embeds: OrtTensor): Promise<Float32Array> {
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

  /** Embed one token and run a decode step. */
  async step(tokenId: number): Promise<Float32Array> {
    const e = await embedTokens(this.sessions, [tokenId]);
    return this.forward(e);
  }

  dispose(): void {
    this.cache.dispose();
  }
}
