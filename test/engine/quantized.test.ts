/**
 * The quantised CPU builds (QMoE + GroupQueryAttention, external data files) checked EXACTLY: against golden values
 * of transformers running the same dequantised decoder weights (test/fixtures/golden/engine/dequant-int8/,
 * dequant-int4/, written by scripts/export/make_tiny_fixture.py). The int4 fixture runs its q/k/v/o + lm_head as
 * MatMulNBits at its variant's default accuracy_level (2: fp32 arithmetic on the dequantised weights,
 * scripts/export/export.py ACCURACY_LEVEL); the int8 fixture stores the same uint8 weights + scales but dequantises
 * them in a constant subgraph that ORT folds into fp32 MatMul weights at load (INT8_LINEAR 'dequant'). Either way
 * what is left is fp32 rounding: prefill and the first 3 decode steps within 5e-5 (measured in Python ~5e-6), greedy
 * tokens identical. Inputs are the fp32 golden features; the audio tower is not quantised.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCaptioner, type CaptionerEngine } from '../../src/engine';
import { argmax } from '../../src/engine/sampler';
import { FIXTURE_DIR, GOLDEN_DIR, greedyAgainstGolden, maxAbsDiff } from './helpers';

interface Clip {
  name: string;
  frames: number;
  audioTokens: number;
  promptIds: number[];
  prefillArgmax: number;
  greedyTokens: number[];
  stepLogitsShape: number[];
  files: { features?: string; prefillLogits: string; stepLogits: string };
}
interface Golden {
  generatedBy: string;
  clips: Clip[];
}

const TOL = 5e-5;

function f32(dir: string, file: string, n: number): Float32Array {
  const buf = readFileSync(join(dir, file));
  const out = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
  expect(out.length).toBe(n);
  return out;
}

const fp32Golden = JSON.parse(readFileSync(join(GOLDEN_DIR, 'golden.json'), 'utf8')) as Golden;

describe.each([
  ['int8 per-channel experts', 'tiny-random-qmoe-cpu', 'dequant-int8', 8],
  ['int4 block-32 experts', 'tiny-random-qmoe-int4-cpu', 'dequant-int4', 4],
] as const)('%s vs transformers on the dequantised weights', (_label, modelName, goldenName, bits) => {
  const gdir = join(GOLDEN_DIR, goldenName);
  const golden = JSON.parse(readFileSync(join(gdir, 'golden.json'), 'utf8')) as Golden;
  let engine: CaptionerEngine;
  beforeAll(async () => {
    engine = await loadCaptioner(join(FIXTURE_DIR, '..', modelName), { provider: 'cpu', threads: 1 });
  });
  afterAll(async () => engine.dispose());

  it('is the quantised build the goldens were made for', () => {
    expect(golden.generatedBy).toContain(`int${bits}-dequantised`);
    expect(engine.manifest.variant).toBe(`cpu-int${bits}-qmoe`);
    const m = JSON.parse(readFileSync(join(FIXTURE_DIR, '..', modelName, 'manifest.json'), 'utf8')) as {
      files: Record<string, unknown>;
      contribOps: string[];
      build: { expertBits: number; matMulNBitsAccuracyLevel: number; int8Linear?: string };
    };
    expect(m.build).toMatchObject({ expertBits: bits, matMulNBitsAccuracyLevel: 2 });
    // int8: dense linears as load-time-folded fp32 MatMul (no MatMulNBits left); int4: MatMulNBits
    if (bits === 8) {
      expect(m.build.int8Linear).toBe('dequant');
      expect(m.contribOps).toEqual(['GroupQueryAttention', 'QMoE']);
    } else {
      expect(m.build.int8Linear).toBeUndefined();
      expect(m.contribOps).toContain('MatMulNBits');
    }
    expect(Object.keys(m.files)).toEqual(expect.arrayContaining(['decoder.onnx.data', 'embed.onnx.data', 'audio_encoder.onnx.data']));
  });

  describe.each(golden.clips.map((c) => [c.name, c] as const))('%s', (_name, clip) => {
    it(`prefill and 3 decode steps within ${TOL}, greedy tokens identical`, async () => {
      const inClip = fp32Golden.clips.find((c) => c.name === clip.name);
      if (!inClip?.files.features) throw new Error(`no fp32 golden features for ${clip.name}`);
      const vocab = clip.stepLogitsShape[1];
      const enc = await engine.encodeAudio({ data: f32(GOLDEN_DIR, inClip.files.features, 128 * clip.frames), numMelBins: 128, frames: clip.frames });
      expect(enc.audioTokens).toBe(clip.audioTokens);
      const prompt = engine.prompt(enc.audioTokens);
      expect(prompt.ids).toEqual(clip.promptIds);
      const dec = engine.newDecoder();
      try {
        const logits = await dec.forward(await engine.promptEmbeds(prompt, enc.embeds));
        const pre = f32(gdir, clip.files.prefillLogits, vocab);
        expect(maxAbsDiff(logits, pre)).toBeLessThan(TOL);
        expect(argmax(logits)).toBe(clip.prefillArgmax);
        const steps = f32(gdir, clip.files.stepLogits, clip.stepLogitsShape[0] * vocab);
        const eos = new Set(engine.manifest.tokens.eos);
        const tokens = await greedyAgainstGolden(dec, logits, { steps, stepCount: clip.stepLogitsShape[0], vocab, tokens: clip.greedyTokens, eos, tol: TOL });
        expect(tokens).toEqual(clip.greedyTokens);
      } finally {
        dec.dispose();
      }
    });
  });
});
