import { loadCaptioner, type CaptionChunk, type CaptionerEngine } from '../../src/engine';
import { audioTokenCount } from '../../src/engine/prompt';
import { argmax } from '../../src/engine/sampler';
import { ort } from '../../src/engine/ort';
import { FIXTURE_DIR, SPEECH_WAV, maxAbsDiff, readWav16k, rejection } from './helpers';
import { aborted } from '../wait';

const samples = readWav16k(SPEECH_WAV);
const pcm = { samples, sampleRate: 16000 as const };

async function collect(it: AsyncIterable<CaptionChunk>): Promise<CaptionChunk[]> {
  const out: CaptionChunk[] = [];
  for await (const c of it) out.push(c);
  return out;
}

describe('CaptionerEngine on the tiny fixture (real ORT sessions, real speech)', () => {
  let engine: CaptionerEngine;
  beforeAll(async () => {
    engine = await loadCaptioner(FIXTURE_DIR, { provider: 'auto', threads: 1 });
  });
  afterAll(async () => {
    await engine.dispose();
  });

  it('loads with the CPU provider and the manifest model id', () => {
    expect(engine.provider).toBe('cpu');
    expect(engine.modelId).toBe(engine.manifest.name);
  });

  it('greedy caption: stream and result agree, token counts add up, deterministic', async () => {
    const opts = { temperature: 0, maxNewTokens: 24 };
    const chunks = await collect(engine.captionStream(pcm, opts));
    expect(chunks[0]).toEqual({ type: 'window', index: 0, startSeconds: 0, endSeconds: samples.length / 16000 });
    const last = chunks[chunks.length - 1];
    if (last.type !== 'done') throw new Error('stream must end with done');
    const tokens = chunks.filter((c): c is Extract<CaptionChunk, { type: 'token' }> => c.type === 'token');
    const r = last.result;
    expect(tokens.length).toBe(r.completionTokens);
    expect(r.completionTokens).toBeGreaterThan(0);
    expect(r.completionTokens).toBeLessThanOrEqual(24);
    expect(r.finishReason).toBe(r.completionTokens === 24 ? 'length' : 'stop');
    expect(tokens.map((t) => t.text).join('').trim()).toBe(r.caption);
    expect(engine.tokenizer.decode(tokens.map((t) => t.tokenId)).trim()).toBe(r.caption);
    const frames = Math.floor(samples.length / 160);
    expect(r.promptTokens).toBe(audioTokenCount(frames) + engine.prompt(0).ids.length);
    expect(r.windows).toBe(1);
    expect(r.model).toBe(engine.modelId);
    expect(r.audioSeconds).toBeCloseTo(samples.length / 16000, 6);
    for (const k of ['featuresMs', 'encoderMs', 'prefillMs', 'decodeMs', 'totalMs'] as const) expect(r.timings[k]).toBeGreaterThan(0);
    const again = await engine.caption(pcm, opts);
    expect(again.caption).toBe(r.caption);
    expect(again.completionTokens).toBe(r.completionTokens);
  });

  it('seeded sampling is reproducible and the seed matters', async () => {
    const run = async (seed: number) => (await engine.caption(pcm, { temperature: 1, topK: 0, topP: 1, seed, maxNewTokens: 12 })).caption;
    const a = await run(1);
    expect(await run(1)).toBe(a);
    const others = await Promise.all([2, 3, 4].map(run));
    expect(others.some((o) => o !== a)).toBe(true);
  });

  it('KV-cached decode steps give the same logits as a full recompute', async () => {
    const mel = await engine.features(samples);
    const enc = await engine.encodeAudio(mel);
    const prompt = engine.prompt(enc.audioTokens);
    const dec = engine.newDecoder();
    const generated: number[] = [];
    let logits = await dec.forward(await engine.promptEmbeds(prompt, enc.embeds));
    for (let i = 0; i < 6; i++) {
      generated.push(argmax(logits));
      logits = await dec.step(generated[generated.length - 1]);
    }
    expect(dec.length).toBe(prompt.ids.length + 6);
    const full = engine.newDecoder();
    const all = await full.forward(await engine.promptEmbeds({ ...prompt, ids: [...prompt.ids, ...generated] }, enc.embeds));
    expect(maxAbsDiff(logits, all)).toBeLessThan(1e-3);
    dec.dispose();
    full.dispose();
  });

  it('abort mid-generation stops before the next step and throws ABORTED', async () => {
    const controller = new AbortController();
    let seen = 0;
    let afterAbort = 0;
    const e = await rejection(
      (async () => {
        for await (const c of engine.captionStream(pcm, { temperature: 1, seed: 5, maxNewTokens: 400, signal: controller.signal })) {
          if (c.type !== 'token') continue;
          if (controller.signal.aborted) afterAbort++;
          seen++;
          if (seen === 3) controller.abort();
        }
      })(),
    );
    expect(e.code).toBe('ABORTED');
    expect(seen).toBe(3);
    expect(afterAbort).toBe(0);
  });

  it('an already-aborted or timed-out signal fails fast with ABORTED / TIMEOUT', async () => {
    const c = new AbortController();
    c.abort();
    expect((await rejection(engine.caption(pcm, { signal: c.signal }))).code).toBe('ABORTED');
    const t = AbortSignal.timeout(1);
    await aborted(t, 'the 1 ms timeout signal');
    expect((await rejection(engine.caption(pcm, { signal: t }))).code).toBe('TIMEOUT');
  });

  it('clips longer than the window are captioned per window and stitched with time labels', async () => {
    const windowSeconds = 3;
    const chunks = await collect(engine.captionStream(pcm, { temperature: 0, maxNewTokens: 6, windowSeconds, overlapSeconds: 0.5 }));
    const windows = chunks.filter((c): c is Extract<CaptionChunk, { type: 'window' }> => c.type === 'window');
    const done = chunks[chunks.length - 1];
    if (done.type !== 'done') throw new Error('no done chunk');
    expect(windows.length).toBeGreaterThanOrEqual(Math.ceil(samples.length / 16000 / windowSeconds));
    expect(done.result.windows).toBe(windows.length);
    expect(windows[0].startSeconds).toBe(0);
    for (const w of windows) expect(w.endSeconds - w.startSeconds).toBeLessThanOrEqual(windowSeconds + 1e-6);
    expect(done.result.caption.startsWith(`[0-3s] `)).toBe(true);
    expect(done.result.caption.split('\n\n')).toHaveLength(windows.length);
    const tokens = chunks.filter((c) => c.type === 'token');
    expect(tokens.length).toBe(done.result.completionTokens);
  });

  it('bad input gets typed errors', async () => {
    expect((await rejection(engine.caption({ samples: new Float32Array(0), sampleRate: 16000 }))).code).toBe('MEDIA_EMPTY');
    expect((await rejection(engine.caption({ samples, sampleRate: 44100 as 16000 }))).code).toBe('MEDIA_BAD_SAMPLE_RATE');
    expect((await rejection(engine.caption({ samples: new Float32Array(100), sampleRate: 16000 }))).code).toBe('MEDIA_ZERO_LENGTH');
    const w = await rejection(engine.caption(pcm, { windowSeconds: 40 }));
    expect(w.code).toBe('INVALID_ARGUMENT');
    expect(w.message).toContain('windowSeconds');
    expect((await rejection(engine.caption(pcm, { maxNewTokens: 0 }))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(engine.caption(pcm, { topP: 2 }))).code).toBe('INVALID_ARGUMENT');
  });
});

describe('dispose', () => {
  it('releases the sessions; a disposed engine throws DISPOSED', async () => {
    const engine = await loadCaptioner(FIXTURE_DIR, { provider: 'cpu', threads: 1 });
    const sessions = engine.ortSessions;
    await engine[Symbol.asyncDispose]();
    await engine.dispose(); // idempotent
    const e = await rejection(engine.caption(pcm));
    expect(e.code).toBe('DISPOSED');
    expect(e.message).toContain('disposed');
    const ids = new (ort().Tensor)('int64', BigInt64Array.of(1n), [1, 1]);
    await expect(sessions.embed.run({ input_ids: ids })).rejects.toThrow(/disposed/i);
  });

  it('disposing during a generation stops it with DISPOSED at the next step', async () => {
    const engine = await loadCaptioner(FIXTURE_DIR, { provider: 'cpu', threads: 1 });
    let tokens = 0;
    const e = await rejection(
      (async () => {
        for await (const c of engine.captionStream(pcm, { temperature: 1, seed: 9, maxNewTokens: 400 })) {
          if (c.type === 'token' && ++tokens === 2) await engine.dispose();
        }
      })(),
    );
    expect(e.code).toBe('DISPOSED');
    expect(tokens).toBe(2);
  });
});
