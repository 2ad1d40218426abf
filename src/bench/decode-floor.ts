/**
 * Memory-bandwidth floor of a decode step: the bytes one token's decoder step must read (weights
 * it touches, the KV cache) divided by this machine's measured read bandwidth. A step can never be
 * faster than that on CPU; the ratio measured / floor says how far the kernels are from it.
 */
import { OmnicapError } from '../errors';

export interface DecodeBytes {
  /** q/k/v/o projections of every layer. */
  attention: number;
  /** the k routed experts of every layer (+ the router). */
  experts: number;
  lmHead: number;
  /** K and V of `past` positions, every layer. */
  kvCache: number;
  total: number;
}

/** How the build stores and runs its weights (manifest `build`, docs/model-format.md). */
export interface BuildFacts {
  /** fp32-reference: 0 (dense fp32 over all experts). */
  expertBits: 0 | 4 | 8;
  blockSize: number;
  /** 8-bit dense linears: MatMulNBits reads uint8 + scales; dequant reads the folded fp32 weight. */
  int8Linear: 'nbits' | 'dequant';
}

/** config.text of manifest.json with the MoE sizes (the engine's parsed manifest omits them). */
export interface TextDims {
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  headDim: number;
  vocabSize: number;
  numExperts: number;
  numExpertsPerTok: number;
  moeIntermediateSize: number;
}

const DIM_KEYS = ['hiddenSize', 'numLayers', 'numHeads', 'numKvHeads', 'headDim', 'vocabSize', 'numExperts', 'numExpertsPerTok', 'moeIntermediateSize'] as const;

export function textDims(manifestJson: unknown): TextDims {
  const text = (manifestJson as { config?: { text?: Record<string, unknown> } } | null)?.config?.text;
  const out: Partial<TextDims> = {};
  for (const k of DIM_KEYS) {
    const v = text?.[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) throw new OmnicapError('MODEL_INVALID', `manifest.json config.text.${k} must be a positive integer to compute decode bytes (got ${JSON.stringify(v)})`);
    out[k] = v;
  }
  return out as TextDims;
}

export function buildFacts(manifestJson: unknown): BuildFacts {
  const b = (typeof manifestJson === 'object' && manifestJson !== null ? (manifestJson as { build?: Record<string, unknown> }).build : undefined) ?? {};
  const bits = b.expertBits === 4 || b.expertBits === 8 ? b.expertBits : 0;
  return { expertBits: bits, blockSize: typeof b.blockSize === 'number' && b.blockSize > 0 ? b.blockSize : 32, int8Linear: b.int8Linear === 'dequant' ? 'dequant' : 'nbits' };
}

/** Bytes per weight as a decode step reads it. */
function denseBytesPerWeight(f: BuildFacts): number {
  if (f.expertBits === 0) return 4;
  if (f.expertBits === 8 && f.int8Linear === 'dequant') return 4; // folded to fp32 at load
  return f.expertBits / 8 + 4 / f.blockSize; // n-bit weights + one fp32 scale per block
}

export function decodeBytesPerToken(t: TextDims, f: BuildFacts, past: number): DecodeBytes {
  const q = t.numHeads * t.headDim;
  const kv = t.numKvHeads * t.headDim;
  const dense = denseBytesPerWeight(f);
  const attention = t.numLayers * (t.hiddenSize * q + 2 * t.hiddenSize * kv + q * t.hiddenSize) * dense;
  // QMoE: k experts of 3 matrices H x I (gate/up interleaved + down); int8 per-channel scales, int4 per block.
  // fp32-reference: dense over all experts (docs/export.md).
  const expertWeights = 3 * t.hiddenSize * t.moeIntermediateSize;
  const perExpert = f.expertBits === 0 ? expertWeights * 4 : f.expertBits === 8 ? expertWeights + 3 * t.moeIntermediateSize * 4 : expertWeights / 2 + (expertWeights / f.blockSize) * 4;
  const experts = t.numLayers * ((f.expertBits === 0 ? t.numExperts : t.numExpertsPerTok) * perExpert + t.hiddenSize * t.numExperts * 4);
  const lmHead = t.vocabSize * t.hiddenSize * dense;
  const kvCache = past * t.numLayers * 2 * kv * 4;
  return { attention, experts, lmHead, kvCache, total: attention + experts + lmHead + kvCache };
}

/**
 * Read bandwidth in GB/s (1e9 B/s): the median over `reps` of memcmp over two equal buffers of
 * `bytes` each (Buffer.compare reads both; larger than any cache).
 */
export function measureReadBandwidth(bytes = 256 * 1024 * 1024, reps = 5): number {
  const a = Buffer.alloc(bytes, 7);
  const b = Buffer.alloc(bytes, 7);
  Buffer.compare(a, b); // fault the pages in
  const rates: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t = performance.now();
    if (Buffer.compare(a, b) !== 0) throw new Error('buffers differ');
    rates.push((2 * bytes) / ((performance.now() - t) / 1000) / 1e9);
  }
  rates.sort((x, y) => x - y);
  return rates[Math.floor(rates.length / 2)];
}
