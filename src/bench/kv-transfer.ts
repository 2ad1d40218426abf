/**
 * KV-cache transfer cost.
 *
 * onnxruntime-node has no CUDA device-memory output location (docs/gpu.md), so with the CUDA EP
 * every decode step copies the whole past KV cache host->device and the new present KV cache
 * device->host. {@link kvBytesPerStep} is the cost model; {@link measureKvTransfer} measures it:
 * one decode step (seq 1) with growing past length, least-squares slope in ms per past token.
 * On CPU the slope is attention + the binding's input/output copies; on CUDA it is dominated by
 * the PCIe copies. Divide bytes per past token by the slope to get the effective bandwidth.
 */
import { OmnicapError, invalidParameterError } from '../errors';
import { throwIfAborted } from '../util/abort';
import { ort, type OrtSession, type OrtTensor } from '../engine/ort';
import type { DecoderPlan } from '../engine/sessions';
import { linearFit, summarize, type LinearFit, type Summary } from './stats';

export interface KvShape {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  /** 2 for fp16/bf16, 4 for fp32. */
  bytesPerElement: number;
}

/** Qwen3-Omni-30B-A3B thinker (facts §3) with an fp16 cache. */
export const QWEN3_OMNI_KV: KvShape = { numLayers: 48, numKvHeads: 4, headDim: 128, bytesPerElement: 2 };

/** Bytes of K+V for one token of context: layers x 2 (k,v) x kv heads x head dim x bytes. */
export function kvBytesPerToken(s: KvShape): number {
  return s.numLayers * 2 * s.numKvHeads * s.headDim * s.bytesPerElement;
}

/**
 * Bytes moved across the host<->device link in one decode step at context `ctx` when the KV cache
 * lives on the host: past (ctx tokens) H2D + present (ctx + 1 tokens) D2H.
 */
export function kvBytesPerStep(s: KvShape, ctx: number): number {
  return kvBytesPerToken(s) * (2 * ctx + 1);
}

/** Predicted copy time in ms at a link bandwidth in GB/s (1e9 bytes/s). */
export function kvCopyMs(bytes: number, gbPerSecond: number): number {
  return (bytes / (gbPerSecond * 1e9)) * 1000;
}

export interface KvTransferPoint {
  past: number;
  ms: Summary;
}

export interface KvTransferResult {
  provider: string;
  shape: KvShape;
  points: KvTransferPoint[];
  /** Fit of median step ms against past length. */
  fit: LinearFit;
  msPerPastToken: number;
  bytesPerPastToken: number;
  /** Bytes per past token (in + out) / slope: an effective GB/s (meaningful on CUDA). */
  effectiveGBps: number;
}

export interface KvTransferOptions {
  session: OrtSession;
  plan: DecoderPlan;
  hiddenSize: number;
  numKvHeads: number;
  headDim: number;
  provider: string;
  pastLengths: number[];
  reps: number;
  signal?: AbortSignal;
}

function feedsFor(o: KvTransferOptions, past: number): Record<string, OrtTensor> {
  const { Tensor } = ort();
  const feeds: Record<string, OrtTensor> = { inputs_embeds: new Tensor('float32', new Float32Array(o.hiddenSize).fill(0.01), [1, 1, o.hiddenSize]) };
  if (o.plan.hasAttentionMask) feeds.attention_mask = new Tensor('int64', new BigInt64Array(past + 1).fill(1n), [1, past + 1]);
  if (o.plan.hasPositionIds) feeds.position_ids = new Tensor('int64', BigInt64Array.of(BigInt(past)), [1, 1]);
  const n = o.numKvHeads * past * o.headDim;
  for (const name of [...o.plan.pastKey, ...o.plan.pastValue]) {
    feeds[name] = o.plan.kvDtype === 'float16' ? new Tensor('float16', new Uint16Array(n), [1, o.numKvHeads, past, o.headDim]) : new Tensor('float32', new Float32Array(n), [1, o.numKvHeads, past, o.headDim]);
  }
  return feeds;
}

export async function measureKvTransfer(o: KvTransferOptions): Promise<KvTransferResult> {
  if (o.pastLengths.length < 2 || o.pastLengths.some((p) => !Number.isInteger(p) || p < 0)) throw invalidParameterError('pastLengths', 'at least two integers >= 0', o.pastLengths);
  if (!Number.isInteger(o.reps) || o.reps < 1) throw invalidParameterError('reps', 'an integer >= 1', o.reps);
  const points: KvTransferPoint[] = [];
  for (const past of o.pastLengths) {
    const feeds = feedsFor(o, past);
    const times: number[] = [];
    for (let r = 0; r <= o.reps; r++) {
      throwIfAborted(o.signal);
      const t = performance.now();
      try {
        await o.session.run(feeds);
      } catch (e) {
        throw new OmnicapError('MODEL_RUN_FAILED', `decoder step with past ${past} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      if (r > 0) times.push(performance.now() - t); // r = 0 warms this shape up
    }
    points.push({ past, ms: summarize(times) });
  }
  const fit = linearFit(
    points.map((p) => p.past),
    points.map((p) => p.ms.p50),
  );
  const shape: KvShape = { numLayers: o.plan.numLayers, numKvHeads: o.numKvHeads, headDim: o.headDim, bytesPerElement: o.plan.kvDtype === 'float16' ? 2 : 4 };
  const bytesPerPastToken = 2 * kvBytesPerToken(shape);
  return {
    provider: o.provider,
    shape,
    points,
    fit,
    msPerPastToken: fit.slope,
    bytesPerPastToken,
    effectiveGBps: fit.slope > 0 ? bytesPerPastToken / (fit.slope / 1000) / 1e9 : Number.POSITIVE_INFINITY,
  };
}
