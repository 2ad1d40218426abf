/**
 * The decode-step byte count behind the memory-bandwidth floor (src/bench/decode-floor.ts),
 * checked by hand on the mid-size benchmark config and on the committed int8 fixture's manifest.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildFacts, decodeBytesPerToken, measureReadBandwidth, textDims, type TextDims } from '../../src/bench/decode-floor';
import { packageRoot } from '../../src/util/paths';

// make_bench_model MID: hidden 1024, 8 layers, 16 q / 4 kv heads x 64, 16 experts top-4 of 256, vocab 1542
const MID: TextDims = { hiddenSize: 1024, numLayers: 8, numHeads: 16, numKvHeads: 4, headDim: 64, vocabSize: 1542, numExperts: 16, numExpertsPerTok: 4, moeIntermediateSize: 256 };

describe('decode bytes per token', () => {
  const attnWeights = 8 * (1024 * 1024 + 2 * 1024 * 256 + 1024 * 1024); // q, k, v, o per layer
  const expertWeights = 3 * 1024 * 256;
  it('int8 with dequantised (fp32) dense linears: 4 B per dense weight, 1 B + per-channel scale per routed expert weight', () => {
    const b = decodeBytesPerToken(MID, { expertBits: 8, blockSize: 32, int8Linear: 'dequant' }, 100);
    expect(b.attention).toBe(attnWeights * 4);
    expect(b.lmHead).toBe(1542 * 1024 * 4);
    expect(b.experts).toBe(8 * (4 * (expertWeights + 3 * 256 * 4) + 1024 * 16 * 4));
    expect(b.kvCache).toBe(100 * 8 * 2 * 4 * 64 * 4);
    expect(b.total).toBe(b.attention + b.experts + b.lmHead + b.kvCache);
  });
  it('MatMulNBits int8 reads 1 B + a block scale per dense weight; fp32-reference reads every expert in fp32', () => {
    const nbits = decodeBytesPerToken(MID, { expertBits: 8, blockSize: 32, int8Linear: 'nbits' }, 0);
    expect(nbits.attention).toBeCloseTo(attnWeights * (1 + 4 / 32), 6);
    const ref = decodeBytesPerToken(MID, { expertBits: 0, blockSize: 32, int8Linear: 'nbits' }, 0);
    expect(ref.experts).toBe(8 * (16 * expertWeights * 4 + 1024 * 16 * 4));
    const int4 = decodeBytesPerToken(MID, { expertBits: 4, blockSize: 32, int8Linear: 'nbits' }, 0);
    expect(int4.experts).toBe(8 * (4 * (expertWeights / 2 + (expertWeights / 32) * 4) + 1024 * 16 * 4));
  });
  it('reads the build and MoE sizes from a real manifest; refuses a manifest without them', () => {
    const raw: unknown = JSON.parse(readFileSync(join(packageRoot(), 'models', 'tiny-random-qmoe-cpu', 'manifest.json'), 'utf8'));
    expect(buildFacts(raw)).toEqual({ expertBits: 8, blockSize: 32, int8Linear: 'dequant' });
    expect(textDims(raw).numExpertsPerTok).toBeGreaterThan(0);
    expect(buildFacts({})).toEqual({ expertBits: 0, blockSize: 32, int8Linear: 'nbits' });
    expect(() => textDims({ config: { text: { hiddenSize: 8 } } })).toThrow(expect.objectContaining({ code: 'MODEL_INVALID', message: expect.stringMatching(/numLayers/) }));
  });
  it('measures a positive read bandwidth', () => {
    expect(measureReadBandwidth(8 * 1024 * 1024, 3)).toBeGreaterThan(0.1);
  });
});
