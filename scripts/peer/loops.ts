/**
 * The two greedy decode loops compared by scripts/bench-peer.ts on the same ONNX decoder
 * (models/peer-qwen3-tiny, transformers.js layout: input_ids + attention_mask + position_ids +
 * past_key_values.* -> logits + present.*):
 *
 *  - {@link omnicapLoop}: our engine's decode-loop style — the engine's own KvCache (present.*
 *    fed straight back as past, amortised attention-mask buffer), one reusable position tensor,
 *    last-row logits + the engine's argmax;
 *  - {@link transformersJsLoop}: transformers.js AutoModelForCausalLM.generate (greedy), loaded
 *    from the local directory only (no hub access), with a streamer timing every token.
 *
 * Both force exactly `newTokens` tokens (EOS masked, = transformers' min_new_tokens).
 */
import { join } from 'node:path';
import { KvCache } from '../../src/engine/kv-cache';
import { ort, type OrtSession, type OrtTensor } from '../../src/engine/ort';
import { argmax } from '../../src/engine/sampler';
import type { DecoderPlan } from '../../src/engine/sessions';

export interface PeerConfig {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  vocab: number;
  eos: number;
}

export interface LoopResult {
  tokens: number[];
  /** ms from start to first generated token (prefill). */
  firstTokenMs: number;
  /** ms between consecutive tokens (newTokens - 1 values). */
  stepMs: number[];
  totalMs: number;
}

interface RawConfig {
  num_hidden_layers: number;
  num_key_value_heads: number;
  head_dim: number;
  vocab_size: number;
  eos_token_id: number;
}

export function peerConfig(raw: RawConfig): PeerConfig {
  return { numLayers: raw.num_hidden_layers, numKvHeads: raw.num_key_value_heads, headDim: raw.head_dim, vocab: raw.vocab_size, eos: raw.eos_token_id };
}

function plan(c: PeerConfig): DecoderPlan {
  const r = (p: string, kv: string): string[] => Array.from({ length: c.numLayers }, (_, i) => `${p}.${i}.${kv}`);
  return { numLayers: c.numLayers, hasAttentionMask: true, hasPositionIds: true, pastKey: r('past_key_values', 'key'), pastValue: r('past_key_values', 'value'), presentKey: r('present', 'key'), presentValue: r('present', 'value'), kvDtype: 'float32' };
}

export async function createPeerSession(modelDir: string, threads: number): Promise<OrtSession> {
  return ort().InferenceSession.create(join(modelDir, 'onnx', 'model.onnx'), { executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1 });
}

export async function omnicapLoop(session: OrtSession, c: PeerConfig, promptIds: readonly number[], newTokens: number): Promise<LoopResult> {
  const { Tensor } = ort();
  const cache = new KvCache(plan(c), c.numKvHeads, c.headDim);
  const pos = new BigInt64Array(1);
  const idBuf = new BigInt64Array(1);
  const tokens: number[] = [];
  const stepMs: number[] = [];
  const t0 = performance.now();
  let firstTokenMs = 0;
  try {
    let ids: OrtTensor = new Tensor('int64', BigInt64Array.from(promptIds, (v) => BigInt(v)), [1, promptIds.length]);
    let positions: OrtTensor = new Tensor('int64', BigInt64Array.from(promptIds, (_, i) => BigInt(i)), [1, promptIds.length]);
    let last = t0;
    while (tokens.length < newTokens) {
      const seq = ids.dims[1];
      const feeds: Record<string, OrtTensor> = { input_ids: ids, attention_mask: cache.attentionMask(cache.length + seq), position_ids: positions };
      cache.addPast(feeds);
      const out = (await session.run(feeds)) as Record<string, OrtTensor>;
      cache.update(out, seq);
      const logits = out.logits.data as Float32Array;
      const row = logits.subarray((seq - 1) * c.vocab, seq * c.vocab);
      const saved = row[c.eos];
      row[c.eos] = Number.NEGATIVE_INFINITY; // min_new_tokens
      const id = argmax(row);
      row[c.eos] = saved;
      tokens.push(id);
      const t = performance.now();
      if (tokens.length === 1) firstTokenMs = t - t0;
      else stepMs.push(t - last);
      last = t;
      idBuf[0] = BigInt(id);
      pos[0] = BigInt(cache.length);
      ids = new Tensor('int64', idBuf, [1, 1]);
      positions = new Tensor('int64', pos, [1, 1]);
    }
    return { tokens, firstTokenMs, stepMs, totalMs: performance.now() - t0 };
  } finally {
    cache.dispose();
  }
}

/** transformers.js module (CommonJS build), loaded lazily; remote models disabled. */
type TjsModule = typeof import('@huggingface/transformers');

export function transformersJs(modelsRoot: string): TjsModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const tjs = require('@huggingface/transformers') as TjsModule;
  tjs.env.allowRemoteModels = false;
  tjs.env.allowLocalModels = true;
  tjs.env.localModelPath = modelsRoot;
  tjs.env.useFSCache = false;
  return tjs;
}

export interface TjsModel {
  generate(ids: number[], newTokens: number): Promise<LoopResult>;
  dispose(): Promise<void>;
}

export async function loadTransformersJs(modelsRoot: string, modelName: string, threads: number): Promise<TjsModel> {
  const tjs = transformersJs(modelsRoot);
  const model = await tjs.AutoModelForCausalLM.from_pretrained(modelName, { local_files_only: true, dtype: 'fp32', device: 'cpu', session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 } });
  return {
    async generate(promptIds: number[], newTokens: number): Promise<LoopResult> {
      const stamps: number[] = [];
      class Timing extends tjs.BaseStreamer {
        private prompt = true;
        override put(value: bigint[][]): void {
          if (this.prompt) {
            this.prompt = false; // generate() puts the prompt first
            return;
          }
          for (let i = 0; i < value[0].length; i++) stamps.push(performance.now());
        }
        override end(): void {}
      }
      const input_ids = new tjs.Tensor('int64', BigInt64Array.from(promptIds, (v) => BigInt(v)), [1, promptIds.length]);
      const attention_mask = new tjs.Tensor('int64', new BigInt64Array(promptIds.length).fill(1n), [1, promptIds.length]);
      const t0 = performance.now();
      const out = (await model.generate({ input_ids, attention_mask, max_new_tokens: newTokens, min_new_tokens: newTokens, do_sample: false, streamer: new Timing() as unknown as InstanceType<TjsModule['TextStreamer']> })) as InstanceType<TjsModule['Tensor']>;
      const totalMs = performance.now() - t0;
      const all = Array.from(out.data as BigInt64Array, (v) => Number(v));
      const tokens = all.slice(promptIds.length);
      return { tokens, firstTokenMs: (stamps[0] ?? t0) - t0, stepMs: stamps.slice(1).map((t, i) => t - stamps[i]), totalMs };
    },
    async dispose(): Promise<void> {
      await model.dispose();
    },
  };
}
