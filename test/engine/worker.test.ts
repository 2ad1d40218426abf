/**
 * The worker runtime (src/engine/worker-captioner.ts) against the in-thread engine on both
 * committed fixture builds: identical streams (token ids, texts, windows, results), abort / timeout /
 * early exit / dispose mid-generation close the generation in the worker and dispose ends the worker
 * thread. How free the event loop stays during a generation is measured, not tested:
 * docs/benchmarks.md "Event-loop delay, engine on the main thread vs a worker thread".
 */
import { join } from 'node:path';
import { loadCaptioner, type CaptionChunk, type CaptionerEngine, type Captioner, type WorkerCaptioner } from '../../src/engine';
import { FIXTURE_DIR, SPEECH_WAV, readWav16k, rejection, streamWithoutTimings } from './helpers';

const samples = readWav16k(SPEECH_WAV);
const pcm = { samples, sampleRate: 16000 as const };
const QMOE_DIR = join(FIXTURE_DIR, '..', 'tiny-random-qmoe-cpu');

/** Chunks without timings, from the shared helper. */
const collect = (c: Captioner, options: Parameters<Captioner['captionStream']>[1]): Promise<unknown[]> => streamWithoutTimings(c, pcm, options);

describe.each([
  ['fp32 reference', FIXTURE_DIR],
  ['int8 QMoE + GQA', QMOE_DIR],
])('worker runtime vs in-thread on %s', (_name, dir) => {
  let inThread: CaptionerEngine;
  let worker: WorkerCaptioner;
  beforeAll(async () => {
    [inThread, worker] = await Promise.all([loadCaptioner(dir, { threads: 1 }), loadCaptioner(dir, { runtime: 'worker', threads: 1 })]);
  });
  afterAll(async () => {
    await Promise.all([inThread.dispose(), worker.dispose()]);
  });

  it('loads the same model on a worker thread', () => {
    expect(worker.runtime).toBe('worker');
    expect(worker.modelId).toBe(inThread.modelId);
    expect(worker.provider).toBe('cpu');
    expect(worker.manifest.name).toBe(inThread.manifest.name);
  });

  it.each([
    ['greedy', { temperature: 0, maxNewTokens: 24 }],
    ['seeded sampling', { temperature: 1, topK: 0, topP: 1, seed: 11, maxNewTokens: 24 }],
    ['windows with overlap', { temperature: 0.7, seed: 3, maxNewTokens: 6, windowSeconds: 3, overlapSeconds: 0.5 }],
  ])('%s: identical stream chunk by chunk', async (_label, opts) => {
    const a = await collect(inThread, opts);
    const b = await collect(worker, opts);
    expect(b).toEqual(a);
    expect(a.filter((c) => (c as CaptionChunk).type === 'token').length).toBeGreaterThan(0);
  });

  it('typed errors come back with their codes', async () => {
    expect((await rejection(worker.caption({ samples: new Float32Array(0), sampleRate: 16000 }))).code).toBe('MEDIA_EMPTY');
    const e = await rejection(worker.caption(pcm, { topP: 2 }));
    expect(e.code).toBe('INVALID_ARGUMENT');
    expect(e.message).toBe((await rejection(inThread.caption(pcm, { topP: 2 }))).message);
    expect(await worker.workerStatus()).toEqual({ generations: 0 });
  });
});

describe('worker runtime: abort, dispose', () => {
  let worker: WorkerCaptioner;
  beforeAll(async () => {
    worker = await loadCaptioner(QMOE_DIR, { runtime: 'worker', threads: 1 });
  });
  afterAll(async () => worker.dispose());

  it('abort mid-generation: no chunk after the abort, ABORTED, and the worker closes the generation', async () => {
    const controller = new AbortController();
    let seen = 0;
    let afterAbort = 0;
    const e = await rejection(
      (async () => {
        for await (const c of worker.captionStream(pcm, { temperature: 1, seed: 5, maxNewTokens: 400, signal: controller.signal })) {
          if (c.type !== 'token') continue;
          if (controller.signal.aborted) afterAbort++;
          if (++seen === 3) controller.abort();
        }
      })(),
    );
    expect(e.code).toBe('ABORTED');
    expect([seen, afterAbort]).toEqual([3, 0]);
    expect(await worker.workerStatus()).toEqual({ generations: 0 });
  });

  it('a timeout during generation gives TIMEOUT; a consumer that stops early closes its generation', async () => {
    const t = await rejection(worker.caption(pcm, { temperature: 1, seed: 1, maxNewTokens: 4000, windowSeconds: 1, signal: AbortSignal.timeout(30) }));
    expect(t.code).toBe('TIMEOUT');
    for await (const c of worker.captionStream(pcm, { temperature: 1, seed: 4, maxNewTokens: 100 })) if (c.type === 'token') break;
    expect(await worker.workerStatus()).toEqual({ generations: 0 });
    // still usable afterwards
    expect((await worker.caption(pcm, { temperature: 0, maxNewTokens: 4 })).completionTokens).toBeGreaterThan(0);
  });

  it('dispose mid-generation: DISPOSED at the next step and the worker thread ends', async () => {
    const w = await loadCaptioner(FIXTURE_DIR, { runtime: 'worker', threads: 1 });
    let tokens = 0;
    const e = await rejection(
      (async () => {
        for await (const c of w.captionStream(pcm, { temperature: 1, seed: 9, maxNewTokens: 400 })) {
          if (c.type === 'token' && ++tokens === 2) await w.dispose();
        }
      })(),
    );
    expect(e.code).toBe('DISPOSED');
    expect(tokens).toBe(2);
    await w.exited; // resolves only when the thread has exited
    await w.dispose(); // idempotent
    expect((await rejection(w.caption(pcm))).code).toBe('DISPOSED');
  });

  it('a model that fails to load rejects with its code and leaves no worker', async () => {
    const e = await rejection(loadCaptioner('/nonexistent/model', { runtime: 'worker' }));
    expect(e.code).toBe('MODEL_NOT_FOUND');
    const c = new AbortController();
    c.abort();
    expect((await rejection(loadCaptioner(FIXTURE_DIR, { runtime: 'worker', signal: c.signal }))).code).toBe('ABORTED');
    expect((await rejection(loadCaptioner(FIXTURE_DIR, { runtime: 'elsewhere' as 'worker' }))).code).toBe('INVALID_ARGUMENT');
    const spin = await rejection(loadCaptioner(FIXTURE_DIR, { runtime: 'worker', spinning: 'yes' as unknown as boolean }));
    expect([spin.code, spin.message]).toEqual(['INVALID_ARGUMENT', 'Expected a boolean for spinning but received string "yes"']);
  });

  it('continuous batching runs inside the worker: concurrent captions equal solo ones', async () => {
    const b = await loadCaptioner(QMOE_DIR, { runtime: 'worker', threads: 1, batch: { maxBatch: 3 } });
    try {
      const opts = { temperature: 0, maxNewTokens: 12 };
      const solo = [];
      for (let i = 0; i < 3; i++) solo.push((await worker.caption(pcm, opts)).caption);
      const together = await Promise.all([0, 1, 2].map(() => b.caption(pcm, opts)));
      expect(together.map((r) => r.caption)).toEqual(solo);
      expect(b.batchStats?.maxRows).toBeGreaterThan(1);
    } finally {
      await b.dispose();
    }
  });
});
