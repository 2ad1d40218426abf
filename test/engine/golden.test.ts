/**
 * The TS engine against Python transformers' Qwen3-Omni thinker on the committed tiny random
 * fixture (models/tiny-random, fp32). Golden values come from scripts/export/golden.py and live in
 * test/fixtures/golden/engine/golden.json with float32 little-endian blobs beside it:
 *   <clip>.features.f32 [128, frames], <clip>.audio_embeds.f32 [N, hidden],
 *   <clip>.prefill_logits.f32 [vocab], <clip>.step_logits.f32 [3, vocab] (decode steps 1..3).
 * Tolerance: 1e-3 max abs on logits/embeddings (fp32); greedy tokens identical.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCaptioner, type CaptionerEngine } from '../../src/engine';
import { argmax } from '../../src/engine/sampler';
import { tensorToFloat32 } from '../../src/engine/ort';
import { computeLogMel } from '../../src/features';
import { FIXTURE_DIR, GOLDEN_DIR, TEST_PROVIDER, greedyAgainstGolden, maxAbsDiff, readWav16k } from './helpers';

interface GoldenClip {
  name: string;
  sourcePaths: string[];
  samples: number;
  frames: number;
  audioTokens: number;
  promptIds: number[];
  audioEmbedsStats: { shape: number[] };
  prefillArgmax: number;
  greedyTokens: number[];
  greedyText: string;
  stepLogitsShape: number[];
  files: { features: string; audioEmbeds: string; prefillLogits: string; stepLogits: string };
}
interface Golden {
  newTokens: number;
  tokens: { imStart: number; imEnd: number; audioStart: number; audioEnd: number; audioPad: number; eos: number[] };
  clips: GoldenClip[];
}

const TOL = 1e-3;
const META = join(GOLDEN_DIR, 'golden.json');

function f32(file: string, expectedLength: number): Float32Array {
  const buf = readFileSync(join(GOLDEN_DIR, file));
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(4 * i);
  expect(out.length).toBe(expectedLength);
  return out;
}

function concatClips(paths: string[]): Float32Array {
  const parts = paths.map(readWav16k);
  const out = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

const golden = JSON.parse(readFileSync(META, 'utf8')) as Golden;

describe('golden values from transformers (tiny fixture, fp32)', () => {
  let engine: CaptionerEngine;
  beforeAll(async () => {
    engine = await loadCaptioner(FIXTURE_DIR, { provider: TEST_PROVIDER, threads: 1 });
  });
  afterAll(async () => engine.dispose());

  it('special token ids agree with the manifest', () => {
    expect(engine.provider).toBe(TEST_PROVIDER);
    const t = engine.manifest.tokens;
    expect(t.audioPad).toBe(golden.tokens.audioPad);
    expect(t.audioStart).toBe(golden.tokens.audioStart);
    expect(t.audioEnd).toBe(golden.tokens.audioEnd);
    expect(t.eos).toEqual(golden.tokens.eos);
  });

  describe.each(golden.clips.map((c) => [c.name, c] as const))('%s', (_name, clip) => {
    const vocab = clip.stepLogitsShape[1];
    const goldenMel = () => ({ data: f32(clip.files.features, 128 * clip.frames), numMelBins: 128, frames: clip.frames });

    it('source clips are present (pocketsphinx-testdata)', () => {
      for (const p of clip.sourcePaths) expect(existsSync(p)).toBe(true);
      expect(concatClips(clip.sourcePaths).length).toBe(clip.samples);
    });

    it('our log-mel of the real clip matches the processor features (1e-4)', async () => {
      const mel = await computeLogMel(concatClips(clip.sourcePaths), { backend: 'ts' });
      expect(mel.frames).toBe(clip.frames);
      expect(maxAbsDiff(mel.data, goldenMel().data)).toBeLessThan(1e-4);
    });

    it('prompt ids match the processor for the audio token count', () => {
      const prompt = engine.prompt(clip.audioTokens);
      expect(prompt.ids).toEqual(clip.promptIds);
    });

    it('audio embeds, prefill logits, 3 step logits and greedy tokens match (fed the golden features)', async () => {
      const enc = await engine.encodeAudio(goldenMel());
      expect(enc.audioTokens).toBe(clip.audioTokens);
      expect(enc.embeds.dims).toEqual(clip.audioEmbedsStats.shape);
      const audio = tensorToFloat32(enc.embeds);
      expect(maxAbsDiff(audio, f32(clip.files.audioEmbeds, audio.length))).toBeLessThan(TOL);

      const prompt = engine.prompt(enc.audioTokens);
      const dec = engine.newDecoder();
      try {
        const logits = await dec.forward(await engine.promptEmbeds(prompt, enc.embeds));
        expect(maxAbsDiff(logits, f32(clip.files.prefillLogits, vocab))).toBeLessThan(TOL);
        expect(argmax(logits)).toBe(clip.prefillArgmax);
        const steps = f32(clip.files.stepLogits, clip.stepLogitsShape[0] * vocab);
        const eos = new Set(engine.manifest.tokens.eos);
        const tokens = await greedyAgainstGolden(dec, logits, { steps, stepCount: clip.stepLogitsShape[0], vocab, tokens: clip.greedyTokens, eos, tol: TOL });
        expect(tokens).toEqual(clip.greedyTokens);
        expect(engine.tokenizer.decode(tokens.filter((t) => !eos.has(t)))).toBe(clip.greedyText);
      } finally {
        dec.dispose();
      }
    });

    it('the whole product path from the WAV gives the same greedy tokens', async () => {
      const samples = concatClips(clip.sourcePaths);
      const r = await engine.caption({ samples, sampleRate: 16000 }, { temperature: 0, maxNewTokens: clip.greedyTokens.length });
      expect(r.promptTokens).toBe(clip.promptIds.length);
      expect(r.caption).toBe(clip.greedyText.trim());
    });
  });
});

/**
 * The int8 CPU build (QMoE + GroupQueryAttention + MatMulNBits contrib ops) against the same fp32
 * transformers reference. Weight-only int8 quantisation moves logits (range about ±9) by up to
 * ~0.15 on these clips; the stated bound is 0.3 max abs, and greedy tokens must stay identical.
 */
describe('int8 QMoE/GQA CPU build against transformers (tiny fixture)', () => {
  const QMOE_DIR = join(FIXTURE_DIR, '..', 'tiny-random-qmoe-cpu');
  let engine: CaptionerEngine;
  beforeAll(async () => {
    engine = await loadCaptioner(QMOE_DIR, { provider: TEST_PROVIDER, threads: 1 });
  });
  afterAll(async () => engine.dispose());

  it('declares the contrib ops it needs', () => {
    expect(engine.manifest.name).toMatch(/qmoe/);
  });

  it.each(golden.clips.map((c) => [c.name, c] as const))('%s: prefill logits within 0.3 and greedy tokens identical', async (_n, clip) => {
    const vocab = clip.stepLogitsShape[1];
    const enc = await engine.encodeAudio({ data: f32(clip.files.features, 128 * clip.frames), numMelBins: 128, frames: clip.frames });
    const dec = engine.newDecoder();
    try {
      let logits = await dec.forward(await engine.promptEmbeds(engine.prompt(enc.audioTokens), enc.embeds));
      const err = maxAbsDiff(logits, f32(clip.files.prefillLogits, vocab));
      expect(err).toBeGreaterThan(0); // really the quantised graph, not the fp32 one
      expect(err).toBeLessThan(0.3);
      const tokens: number[] = [];
      while (tokens.length < clip.greedyTokens.length) {
        const t = argmax(logits);
        tokens.push(t);
        logits = await dec.step(t);
      }
      expect(tokens).toEqual(clip.greedyTokens);
    } finally {
      dec.dispose();
    }
  });
});
