/**
 * One generation's decoder on the resident-KV addon: the KV cache is a native state that stays in
 * ORT-owned memory between steps (kv-path.ts); JS passes embeddings in and gets logits back.
 */
import { disposedError } from '../../errors';
import { embedTokens, runFailed } from '../embed';
import type { ModelManifest } from '../manifest';
import type { OrtTensor } from '../ort';
import type { ResidentKvSessions } from '../sessions';
import { ELEMENT_TYPE, type NativeKvState } from '../../native';

export class ResidentDecoderState {
  private readonly state: NativeKvState;
  private readonly hidden: number;
  private disposed = false;

  constructor(
    private readonly sessions: ResidentKvSessions,
    manifest: ModelManifest,
  ) {
    const t = manifest.config.text;
    const plan = sessions.decoderPlan;
    this.hidden = t.hiddenSize;
    const past: string[] = [];
    const present: string[] = [];
    for (let i = 0; i < plan.numLayers; i++) {
      past.push(plan.pastKey[i], plan.pastValue[i]);
      present.push(plan.presentKey[i], plan.presentValue[i]);
    }
    try {
      this.state = sessions.native.createState({
        past,
        present,
        maskName: plan.hasAttentionMask ? 'attention_mask' : '',
        positionsName: plan.hasPositionIds ? 'position_ids' : '',
        kvHeads: t.numKvHeads,
        headDim: t.headDim,
        hidden: t.hiddenSize,
        vocab: t.vocabSize,
        maxLength: t.maxPositionEmbeddings,
        kvElementType: plan.kvDtype === 'float16' ? ELEMENT_TYPE.float16 : ELEMENT_TYPE.float32,
        shared: sessions.kvInfo.layout === 'shared',
      });
    } catch (e) {
      throw runFailed('creating the resident KV cache', e);
    }
  }

  get length(): number {
    return this.disposed ? 0 : this.state.length();
  }

  /** Capacity of the shared layout's buffers (0 for the grow layout). */
  get capacity(): number {
    return this.disposed ? 0 : this.state.capacity();
  }

  async forward(embeds: OrtTensor): Promise<Float32Array> {
    if (this.disposed) throw disposedError('the resident KV decoder state');
    const seq = embeds.dims[1];
    const data: unknown = embeds.data;
    if (embeds.dims.length !== 3 || embeds.dims[0] !== 1 || embeds.dims[2] !== this.hidden || embeds.type !== 'float32' || !ArrayBuffer.isView(data)) {
      throw runFailed('resident decoder', new TypeError(`inputs_embeds must be float32 [1, seq, ${this.hidden}], got ${embeds.type} [${embeds.dims.join(', ')}]`));
    }
    const view = data as Float32Array;
    const past = this.length;
    try {
      return await this.state.forward(new Float32Array(view.buffer, view.byteOffset, view.length), seq);
    } catch (e) {
      throw runFailed(`decoder step at position ${past}`, e);
    }
  }

  async step(tokenId: number): Promise<Float32Array> {
    return this.forward(await embedTokens(this.sessions, [tokenId]));
  }

  /** Stop a running step as soon as ORT checks; later steps reject. */
  terminate(): void {
    if (!this.disposed) this.state.terminate();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.state.dispose();
  }
}
