/**
 * KV-cache transfer cost.
 *
 * On the JS KV path onnxruntime-node returns every present.* tensor as a JS buffer, so each decode
 * step copies the whole cache out (and, with the CUDA EP, host->device and device->host: the
 * binding has no device-memory output location). {@link kvBytesPerStep} is that cost model. The
 * resident path (src/engine/kv-path.ts) keeps the cache in ORT-owned memory instead.
 * {@link measureKvTransfer} measures one decode step against past length on either path,
 * least-squares slope in ms per past token: on CPU the slope is attention plus, on the JS path,
 * the copies; divide bytes per past token by the slope to get an effective bandwidth.
 */
import { OmnicapError, invalidParameterError } from '../errors';
import { throwIfAborted } from '../util/abort';
import type { EngineDecoder } from '../engine/decoder';
import type { KvLayout } from '../engine/kv-path';
import { ort, type OrtTensor } from '../engine/ort';
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
  /** Which KV path ran the steps (src/engine/kv-path.ts). */
  kvPath: 'js' | 'resident';
  layout?: KvLayout;
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
  /** A fresh decoder (own cache) on the path under test. */
  newDecoder: () => EngineDecoder;
  kvPath: 'js' | 'resident';
  layout?: KvLayout;
  shape: KvShape;
  hiddenSize: number;
  maxPositions: number;
  provider: string;
  pastLengths: number[];
  reps: number;
  signal?: AbortSignal;
}

function embeds(hidden: number, seq: number, seed: number): OrtTensor {
  const data = new Float32Array(seq * hidden);
  for (let i = 0; i < data.length; i++) data[i] = 0.02 * Math.sin(0.37 * i + seed);
  return new (ort().Tensor)('float32', data, [1, seq, hidden]);
}

/**
 * Decode-step time against past length on one KV path: per past length P, a fresh decoder is
 * prefilled with P positions, warmed up with one step, then `reps` steps are timed (at past
 * P+1 .. P+reps). Both paths run the same graph on the same inputs, so their slopes compare the
 * per-step cache handling (the JS path's output copy vs resident buffers).
 */
export async function measureKvTransfer(o: KvTransferOptions): Promise<KvTransferResult> {
  if (o.pastLengths.length < 2 || o.pastLengths.some((p) => !Number.isInteger(p) || p < 0)) throw invalidParameterError('pastLengths', 'at least two integers >= 0', o.pastLengths);
  if (!Number.isInteger(o.reps) || o.reps < 1) throw invalidParameterError('reps', 'an integer >= 1', o.reps);
  const tooLong = o.pastLengths.find((p) => p + o.reps + 2 > o.maxPositions);
  if (tooLong !== undefined) throw invalidParameterError('pastLengths', `lengths with past + reps + 2 <= ${o.maxPositions} (the model's positions)`, tooLong);
  const points: KvTransferPoint[] = [];
  const step = embeds(o.hiddenSize, 1, 1);
  for (const past of o.pastLengths) {
    throwIfAborted(o.signal);
    const dec = o.newDecoder();
    const times: number[] = [];
    try {
      if (past > 0) await dec.forward(embeds(o.hiddenSize, past, 0));
      for (let r = 0; r <= o.reps; r++) {
        throwIfAborted(o.signal);
        const t = performance.now();
        await dec.forward(step);
        if (r > 0) times.push(performance.now() - t); // r = 0 warms this length up
      }
    } catch (e) {
      throw e instanceof OmnicapError ? e : new OmnicapError('MODEL_RUN_FAILED', `decoder step with past ${past} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    } finally {
      dec.dispose();
    }
    points.push({ past, ms: summarize(times) });
  }
  const fit = linearFit(
    points.map((p) => p.past),
    points.map((p) => p.ms.p50),
  );
  const bytesPerPastToken = 2 * kvBytesPerToken(o.shape);
  return {
    provider: o.provider,
    kvPath: o.kvPath,
    ...(o.layout !== undefined ? { layout: o.layout } : {}),
    shape: o.shape,
    points,
    fit,
    msPerPastToken: fit.slope,
    bytesPerPastToken,
    effectiveGBps: fit.slope > 0 ? bytesPerPastToken / (fit.slope / 1000) / 1e9 : Number.POSITIVE_INFINITY,
  };
}
