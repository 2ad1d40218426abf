/**
 * The resident KV path (native/src/ort, src/engine/kv-path.ts) against the JS path on both
 * committed fixture builds: identical logits step by step and identical caption streams, in-thread
 * and on the worker runtime; the layout chosen per graph (grow for Concat attention, shared
 * capacity buffers for GroupQueryAttention, growing past the initial capacity); explicit selection
 * and its refusals; abort, terminate and dispose mid-generation. With OMNICAP_ENGINE_TEST_PROVIDER=cuda
 * (scripts/gpu-check.sh) the comparisons run on the CUDA EP, where the cache stays in device memory
 * (grow layout); the CPU-only QMoE fixture is then left out.
 */
import { join } from 'node:path';
import { loadCaptioner, selectKvPath, type CaptionChunk, type CaptionerEngine, type Captioner } from '../../src/engine';
import { DecoderState } from '../../src/engine/decoder';
import { ResidentDecoderState } from '../../src/engine/resident/decoder';
import { loadResidentRuntime, tryLoadResident } from '../../src/engine/resident/native';
import { argmax } from '../../src/engine/sampler';
import { FIXTURE_DIR, SPEECH_WAV, TEST_PROVIDER, readWav16k, rejection, streamWithoutTimings } from './helpers';

const samples = readWav16k(SPEECH_WAV);
const pcm = { samples, sampleRate: 16000 as const };
const QMOE_DIR = join(FIXTURE_DIR, '..', 'tiny-random-qmoe-cpu');

/** Chunks without timings, from the shared helper. */
const collect = (c: Captioner, options: Parameters<Captioner['captionStream']>[1]): Promise<unknown[]> => streamWithoutTimings(c, pcm, options);

const builds: Array<[string, string, 'grow' | 'shared']> =
  TEST_PROVIDER === 'cuda'
    ? [['fp32 reference (Concat attention) on CUDA', FIXTURE_DIR, 'grow']]
    : [
        ['fp32 reference (Concat attention)', FIXTURE_DIR, 'grow'],
        ['int8 QMoE + GQA', QMOE_DIR, 'shared'],
      ];

describe.each(builds)('resident KV vs JS KV on %s', (_name, dir, layout) => {
  let js: CaptionerEngine;
  let resident: CaptionerEngine;
  const provider = TEST_PROVIDER;
  beforeAll(async () => {
    js = await loadCaptioner(dir, { provider, threads: 1, kv: 'js' });
    resident = await loadCaptioner(dir, { provider, threads: 1, kv: 'resident' });
  });
  afterAll(async () => {
    await Promise.all([js.dispose(), resident.dispose()]);
  });

  it(`reports the path and the ${layout} layout`, () => {
    expect(js.kvCache).toMatchObject({ path: 'js', reason: expect.stringMatching(/requested/) });
    expect(resident.kvCache).toMatchObject({ path: 'resident', layout, ortVersion: expect.stringMatching(/^1\.\d+\.\d+/) });
    expect(resident.ortSessions.kv).toBe('resident');
  });

  it('the default (auto) takes the resident path', async () => {
    const auto = await loadCaptioner(dir, { provider, threads: 1 });
    try {
      expect(auto.kvCache).toMatchObject({ path: 'resident', layout });
    } finally {
      await auto.dispose();
    }
  });

  it('same logits at every step for 150 greedy steps (past the first capacity doubling)', async () => {
    const mel = await js.features(samples);
    const enc = await js.encodeAudio(mel);
    const embeds = await js.promptEmbeds(js.prompt(enc.audioTokens), enc.embeds);
    const a = js.newDecoder();
    const b = resident.newDecoder();
    expect(a).toBeInstanceOf(DecoderState);
    expect(b).toBeInstanceOf(ResidentDecoderState);
    try {
      let la = await a.forward(embeds);
      let lb = await b.forward(embeds);
      let worst = 0;
      for (let step = 0; step < 150; step++) {
        expect(lb.length).toBe(la.length);
        for (let i = 0; i < la.length; i++) worst = Math.max(worst, Math.abs(la[i] - lb[i]));
        const id = argmax(la);
        expect(argmax(lb)).toBe(id);
        la = (await a.step(id)).slice();
        lb = await b.step(id);
      }
      expect(worst).toBeLessThanOrEqual(provider === 'cuda' ? 1e-4 : 1e-6);
      expect(b.length).toBe(a.length);
      if (layout === 'shared') expect((b as ResidentDecoderState).capacity).toBeGreaterThanOrEqual(b.length + 1);
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('identical caption streams (greedy and seeded sampling)', async () => {
    for (const options of [{ temperature: 0, maxNewTokens: 40 }, { temperature: 0.9, topP: 0.95, seed: 7, maxNewTokens: 40 }]) {
      const [x, y] = [await collect(js, options), await collect(resident, options)];
      expect(y).toEqual(x);
      const tokens = x.filter((c): c is Extract<CaptionChunk, { type: 'token' }> => (c as CaptionChunk).type === 'token');
      expect(tokens.length).toBeGreaterThan(0);
    }
  });

  it('identical on the worker runtime', async () => {
    const w = await loadCaptioner(dir, { runtime: 'worker', provider, threads: 1, kv: 'resident' });
    try {
      expect(w.kvCache).toMatchObject({ path: 'resident', layout });
      const options = { temperature: 0, maxNewTokens: 24 };
      expect(await collect(w, options)).toEqual(await collect(js, options));
    } finally {
      await w.dispose();
    }
    await w.exited;
  });
});

/** Native sessions and KV states alive in this process. */
function live(): { sessions: number; states: number } {
  const r = loadResidentRuntime();
  if (!r.ok) throw r.error;
  return r.runtime.addon.stats();
}

describe('resident KV: selection, refusals, abort and dispose', () => {
  it('batching takes the JS path under auto and refuses an explicit resident request', async () => {
    const batched = await loadCaptioner(FIXTURE_DIR, { provider: 'cpu', threads: 1, batch: { maxBatch: 2 } });
    try {
      expect(batched.kvCache).toMatchObject({ path: 'js', reason: expect.stringMatching(/batched decoding/) });
    } finally {
      await batched.dispose();
    }
    const err = await rejection(loadCaptioner(FIXTURE_DIR, { threads: 1, batch: { maxBatch: 2 }, kv: 'resident' }));
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/kv "resident" is not possible: batched decoding/) });
    expect(await rejection(loadCaptioner(FIXTURE_DIR, { kv: 'device' as 'js' }))).toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('an addon that cannot load: auto falls back with the reason, resident fails with NATIVE_ADDON_UNAVAILABLE', () => {
    const missing = tryLoadResident(['/nonexistent/omnicap_ort.node']);
    expect(missing.ok).toBe(false);
    const facts = { batching: false, embedsDtype: 'float32', provider: 'cpu' as const, gqa: true, load: () => missing };
    expect(selectKvPath('auto', facts)).toMatchObject({ path: 'js', info: { path: 'js', reason: expect.stringMatching(/not built/) } });
    expect(() => selectKvPath('resident', facts)).toThrow(expect.objectContaining({ code: 'NATIVE_ADDON_UNAVAILABLE' }));
    // CUDA keeps the cache on the device in the grow layout; the shared layout is CPU-only
    const real = loadResidentRuntime();
    expect(real.ok).toBe(true);
    expect(selectKvPath('auto', { ...facts, provider: 'cuda', load: () => real })).toMatchObject({ path: 'resident', info: { layout: 'grow' } });
    expect(selectKvPath('auto', { ...facts, embedsDtype: 'float16', load: () => real })).toMatchObject({ path: 'js', info: { reason: expect.stringMatching(/float16/) } });
  });

  it('abort mid-generation gives ABORTED; terminate stops later steps; dispose is idempotent; nothing native is left', async () => {
    const before = live();
    const engine = await loadCaptioner(QMOE_DIR, { provider: 'cpu', threads: 1, kv: 'resident' });
    expect(live()).toEqual({ sessions: before.sessions + 1, states: before.states });
    try {
      const controller = new AbortController();
      let seen = 0;
      const err = await rejection(
        (async () => {
          for await (const ch of engine.captionStream(pcm, { temperature: 0, maxNewTokens: 200, signal: controller.signal })) {
            if (ch.type === 'token' && ++seen === 3) controller.abort();
          }
        })(),
      );
      expect(err).toMatchObject({ code: 'ABORTED' });
      expect(seen).toBe(3);
      const dec = engine.newDecoder() as ResidentDecoderState;
      const mel = await engine.features(samples);
      const enc = await engine.encodeAudio(mel);
      await dec.forward(await engine.promptEmbeds(engine.prompt(enc.audioTokens), enc.embeds));
      dec.terminate();
      expect(await rejection(dec.step(1))).toMatchObject({ code: 'MODEL_RUN_FAILED', message: expect.stringMatching(/terminated/) });
      dec.dispose();
      dec.dispose();
      expect(dec.length).toBe(0);
      expect(await rejection(dec.step(1))).toMatchObject({ code: 'DISPOSED', message: expect.stringMatching(/resident KV decoder state was disposed/) });
      // the engine still serves after all of that, and every generation's native state is gone
      const ok = await engine.caption(pcm, { temperature: 0, maxNewTokens: 5 });
      expect(ok.completionTokens).toBeGreaterThan(0);
      expect(live().states).toBe(before.states);
    } finally {
      await engine.dispose();
    }
    expect(live()).toEqual(before);
  });

  it('dispose of the engine during a generation: DISPOSED at the next step, no crash, no native session or state left', async () => {
    const before = live();
    const engine = await loadCaptioner(FIXTURE_DIR, { provider: 'cpu', threads: 1, kv: 'resident' });
    let seen = 0;
    const err = await rejection(
      (async () => {
        for await (const ch of engine.captionStream(pcm, { temperature: 0, maxNewTokens: 200 })) {
          if (ch.type === 'token' && ++seen === 2) await engine.dispose();
        }
      })(),
    );
    expect(err).toMatchObject({ code: 'DISPOSED' });
    expect(live()).toEqual(before);
  });
});
