/**
 * The committed CUDA build (models/tiny-random-qmoe-int4-cuda: cuda-fp16-int4-qmoe, fp16 activations
 * and KV, QMoE with raw experts and weights_prepacked=0, written by scripts/export/make_tiny_fixture.py
 * from a tiny checkpoint whose hidden and expert sizes meet ONNX Runtime's CUDA QMoE contract) against
 * transformers running exactly its dequantised weights in fp32 (test/fixtures/golden/engine/cuda-int4/).
 *
 * Here (no GPU) it runs on the CPU EP, whose QMoE/GQA/MatMulNBits kernels accept fp16, with
 * allowCpuFallback (a CUDA build on the CPU provider is otherwise refused). With
 * OMNICAP_ENGINE_TEST_PROVIDER=cuda (scripts/gpu-check.sh) it loads on the CUDA EP WITHOUT
 * allowCpuFallback, so the load itself asserts that no node of the three graphs runs on the CPU EP.
 * Bounds: audio embeds (fp32 graph) 1e-4; prefill and 3 decode steps FP16_TOL = 0.05 on logits of
 * magnitude ~10 (measured on the CPU EP: <= 0.0101, scripts/export/make_tiny_fixture.py log and
 * verify.json); greedy tokens identical.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCaptioner, type CaptionerEngine } from '../../src/engine';
import { argmax } from '../../src/engine/sampler';
import { tensorToFloat32 } from '../../src/engine/ort';
import { packageRoot } from '../../src/util/paths';
import { GOLDEN_DIR, TEST_PROVIDER, greedyAgainstGolden, maxAbsDiff } from './helpers';

interface Clip {
  name: string;
  frames: number;
  audioTokens: number;
  promptIds: number[];
  prefillArgmax: number;
  greedyTokens: number[];
  stepLogitsShape: number[];
  files: { features: string; audioEmbeds: string; prefillLogits: string; stepLogits: string };
}

const MODEL = join(packageRoot(), 'models', 'tiny-random-qmoe-int4-cuda');
const GDIR = join(GOLDEN_DIR, 'cuda-int4');
const FP16_TOL = 0.05;
const AUDIO_TOL = 1e-4;
const golden = JSON.parse(readFileSync(join(GDIR, 'golden.json'), 'utf8')) as { generatedBy: string; clips: Clip[] };

function f32(file: string, n: number): Float32Array {
  const buf = readFileSync(join(GDIR, file));
  const out = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  expect(out.length).toBe(n);
  return out;
}

describe(`CUDA build (cuda-fp16-int4-qmoe) on the ${TEST_PROVIDER} EP vs transformers on its dequantised weights`, () => {
  let engine: CaptionerEngine;
  beforeAll(async () => {
    engine = await loadCaptioner(MODEL, { provider: TEST_PROVIDER, threads: 1, allowCpuFallback: TEST_PROVIDER === 'cpu' });
  });
  afterAll(async () => engine.dispose());

  it('is the CUDA build the goldens were made for, with the CUDA QMoE contract in its manifest', () => {
    expect(golden.generatedBy).toContain('int4-dequantised (full-range)');
    expect(engine.provider).toBe(TEST_PROVIDER);
    expect(engine.manifest).toMatchObject({ variant: 'cuda-fp16-int4-qmoe', target: 'cuda' });
    const m = JSON.parse(readFileSync(join(MODEL, 'manifest.json'), 'utf8')) as { build: Record<string, unknown>; sessions: { decoder: { inputs: Array<{ name: string; dtype: string }> } } };
    expect(m.build).toEqual({ expertBits: 4, blockSize: 32, expertBlockSize: 32, matMulNBitsAccuracyLevel: 0, quantizer: 'symmetric-full-range' });
    expect(m.sessions.decoder.inputs.find((i) => i.name === 'past_key_values.0.key')?.dtype).toBe('float16');
  });

  describe.each(golden.clips.map((c) => [c.name, c] as const))('%s', (_name, clip) => {
    it(`audio embeds within ${AUDIO_TOL}; prefill and 3 decode steps within ${FP16_TOL}; greedy tokens identical`, async () => {
      const vocab = clip.stepLogitsShape[1];
      const enc = await engine.encodeAudio({ data: f32(clip.files.features, 128 * clip.frames), numMelBins: 128, frames: clip.frames });
      expect(enc.audioTokens).toBe(clip.audioTokens);
      const hidden = engine.manifest.config.text.hiddenSize;
      expect(maxAbsDiff(tensorToFloat32(enc.embeds), f32(clip.files.audioEmbeds, clip.audioTokens * hidden))).toBeLessThan(AUDIO_TOL);
      const prompt = engine.prompt(enc.audioTokens);
      expect(prompt.ids).toEqual(clip.promptIds);
      const dec = engine.newDecoder();
      try {
        const logits = await dec.forward(await engine.promptEmbeds(prompt, enc.embeds));
        expect(maxAbsDiff(logits, f32(clip.files.prefillLogits, vocab))).toBeLessThan(FP16_TOL);
        expect(argmax(logits)).toBe(clip.prefillArgmax);
        const steps = f32(clip.files.stepLogits, clip.stepLogitsShape[0] * vocab);
        const eos = new Set(engine.manifest.tokens.eos);
        const tokens = await greedyAgainstGolden(dec, logits, { steps, stepCount: clip.stepLogitsShape[0], vocab, tokens: clip.greedyTokens, eos, tol: FP16_TOL });
        expect(tokens).toEqual(clip.greedyTokens);
      } finally {
        dec.dispose();
      }
    });
  });
});
