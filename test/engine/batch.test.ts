/**
 * Batched decoding (src/engine/batcher.ts) against one-at-a-time decoding on the committed fixtures:
 * the fp32 reference graph ('append' KV layout) and the int8 QMoE/GroupQueryAttention graph ('packed'
 * layout). Every row's logits at every step must match its own unbatched run within 1e-4, through
 * joins at different times, leaves, and parking of a row that is slow to submit.
 */
import { join } from 'node:path';
import { loadCaptioner, type CaptionerEngine } from '../../src/engine';
import { DecodeBatcher, kvLayoutOf } from '../../src/engine/batcher';
import { DecoderState } from '../../src/engine/decoder';
import { argmax } from '../../src/engine/sampler';
import { EventEmitter } from 'node:events';
import { FIXTURE_DIR, maxAbsDiff, readWav16k, rejection } from './helpers';
import { until } from '../wait';

const PS = '/usr/share/pocketsphinx/test/data';
const CLIPS = [`${PS}/librivox/sense_and_sensibility_01_austen_64kb-0870.wav`, `${PS}/librivox/sense_and_sensibility_01_austen_64kb-0890.wav`, `${PS}/cards/001.wav`, `${PS}/cards/003.wav`];
const STEPS = 12;
const TOL = 1e-4;

async function prefill(engine: CaptionerEngine, wav: string): Promise<{ dec: DecoderState; logits: Float32Array }> {
  const mel = await engine.features(readWav16k(wav));
  const enc = await engine.encodeAudio(mel);
  const dec = new DecoderState(engine.jsSessions, engine.manifest);
  const logits = await dec.forward(await engine.promptEmbeds(engine.prompt(enc.audioTokens), enc.embeds));
  return { dec, logits: logits.slice() };
}

/** Greedy tokens and the logits after each, decoding alone. */
async function reference(engine: CaptionerEngine, wav: string): Promise<{ tokens: number[]; logits: Float32Array[] }> {
  const { dec, logits: first } = await prefill(engine, wav);
  const logits = [first];
  const tokens: number[] = [];
  for (let k = 0; k < STEPS; k++) {
    tokens.push(argmax(logits[k]));
    logits.push((await dec.step(tokens[k])).slice());
  }
  dec.dispose();
  return { tokens, logits };
}

describe.each([
  ['fp32 reference (append layout)', FIXTURE_DIR, 'append'],
  ['int8 QMoE + GQA (packed layout)', join(FIXTURE_DIR, '..', 'tiny-random-qmoe-cpu'), 'packed'],
])('%s', (_name, dir, layout) => {
  let engine: CaptionerEngine;
  let refs: Array<{ tokens: number[]; logits: Float32Array[] }>;
  beforeAll(async () => {
    engine = await loadCaptioner(dir, { provider: 'cpu', threads: 1, kv: 'js' });
    refs = [];
    for (const c of CLIPS) refs.push(await reference(engine, c));
  });
  afterAll(async () => engine.dispose());

  const newBatcher = (maxBatch = 4, maxWaitMs = 2) => new DecodeBatcher(engine.jsSessions, engine.manifest, { maxBatch, maxWaitMs });

  /** Steps each clip's row has finished in the current test; 'step' is emitted after each. */
  const progress = new EventEmitter();
  const stepsDone = new Map<number, number>();
  beforeEach(() => stepsDone.clear());
  const reached = (i: number, k: number): Promise<void> => until(() => (stepsDone.get(i) ?? 0) >= k, [[progress, 'step']], `row ${i} to finish ${k} steps`);

  /** Drive clip i through the batcher up to step `to`, comparing logits; before step `holdAt` it waits for `hold` (a row slow to submit). */
  async function drive(b: DecodeBatcher, i: number, opts: { to?: number; holdAt?: number; hold?: () => Promise<void> } = {}): Promise<number> {
    const { dec, logits } = await prefill(engine, CLIPS[i]);
    expect(maxAbsDiff(logits, refs[i].logits[0])).toBeLessThan(TOL);
    const row = b.join(dec);
    dec.dispose();
    let worst = 0;
    try {
      for (let k = 0; k < (opts.to ?? STEPS); k++) {
        if (k === opts.holdAt && opts.hold !== undefined) await opts.hold();
        const l = await row.step(refs[i].tokens[k]);
        worst = Math.max(worst, maxAbsDiff(l, refs[i].logits[k + 1]));
        stepsDone.set(i, k + 1);
        progress.emit('step');
      }
    } finally {
      row.leave();
    }
    return worst;
  }

  it('a disposed decoder state, and a batcher disposed while a step waits, refuse with DISPOSED', async () => {
    const b = newBatcher(4, 60_000);
    const one = await prefill(engine, CLIPS[0]);
    const two = await prefill(engine, CLIPS[1]);
    const row = b.join(one.dec);
    const other = b.join(two.dec);
    one.dec.dispose();
    two.dec.dispose();
    expect(await rejection(one.dec.step(refs[0].tokens[0]))).toMatchObject({ code: 'DISPOSED', message: expect.stringMatching(/decoder state was disposed/) });
    await Promise.all([row.step(refs[0].tokens[0]), other.step(refs[1].tokens[0])]);
    // both rows are in the batch and the other has not submitted: this step waits for it (up to maxWaitMs)
    const waiting = row.step(refs[0].tokens[1]);
    b.dispose();
    expect(await rejection(waiting)).toMatchObject({ code: 'DISPOSED', message: expect.stringMatching(/batcher was disposed/) });
    expect(await rejection(row.step(refs[0].tokens[0]))).toMatchObject({ code: 'DISPOSED' });
    expect(() => b.join(one.dec)).toThrow(expect.objectContaining({ code: 'DISPOSED' }));
  });

  it('picks the KV layout from the manifest', () => {
    expect(kvLayoutOf(engine.manifest)).toBe(layout);
  });

  it('four rows joining together match their solo runs at every step', async () => {
    const b = newBatcher();
    const worst = await Promise.all(CLIPS.map((_c, i) => drive(b, i)));
    for (const w of worst) expect(w).toBeLessThan(TOL);
    expect(b.stats.maxRows).toBe(4);
    expect(b.stats.steps).toBeLessThan(STEPS * 2); // really batched, not one call per row-step
    expect(b.size).toEqual({ active: 0, outside: 0 });
    b.dispose();
  });

  it('staggered joins, an early leave and maxBatch 2 (a queued row waits for a slot)', async () => {
    const b = newBatcher(2);
    const worst = await Promise.all([
      drive(b, 0),
      drive(b, 1, { to: 5 }), // leaves after 5 steps
      (async () => {
        await reached(0, 2); // joins late (rows are decoding), waits for row 1's slot
        return drive(b, 2);
      })(),
      drive(b, 3, { to: 7 }),
    ]);
    for (const w of worst) expect(w).toBeLessThan(TOL);
    expect(b.stats.maxRows).toBe(2);
    expect(b.stats.rebuilds).toBeGreaterThan(1);
    b.dispose();
  });

  it('maxBatch 1: a waiting row starts as soon as the running one finishes', async () => {
    const b = newBatcher(1);
    const worst = await Promise.all([drive(b, 0, { to: 6 }), drive(b, 1)]);
    for (const w of worst) expect(w).toBeLessThan(TOL);
    expect(b.stats.maxRows).toBe(1);
    b.dispose();
  });

  it('a row slow to submit is parked and rejoins without changing anyone\'s logits', async () => {
    const b = newBatcher(4, 2);
    // row 1 submits step 4 only once row 0 has finished step 6: the others can only get there if row 1 was parked
    const worst = await Promise.all([drive(b, 0), drive(b, 1, { holdAt: 4, hold: () => reached(0, 6) }), drive(b, 2)]);
    for (const w of worst) expect(w).toBeLessThan(TOL);
    expect(b.stats.parked).toBeGreaterThanOrEqual(1);
    b.dispose();
  });

  it('the engine with batching gives the same greedy captions for concurrent requests', async () => {
    const batched = await loadCaptioner(dir, { provider: 'cpu', threads: 1, batch: { maxBatch: 4 } });
    try {
      const opts = { temperature: 0, maxNewTokens: 16 };
      const solo = [];
      for (const c of CLIPS) solo.push(await engine.caption({ samples: readWav16k(c), sampleRate: 16000 }, opts));
      const together = await Promise.all(CLIPS.map((c) => batched.caption({ samples: readWav16k(c), sampleRate: 16000 }, opts)));
      expect(together.map((r) => [r.caption, r.completionTokens])).toEqual(solo.map((r) => [r.caption, r.completionTokens]));
      expect(batched.batchStats!.maxRows).toBeGreaterThan(1);
    } finally {
      await batched.dispose();
    }
  });

  it('aborting one batched request leaves the others intact', async () => {
    const batched = await loadCaptioner(dir, { provider: 'cpu', threads: 1, batch: { maxBatch: 4 } });
    try {
      const ac = new AbortController();
      const opts = { temperature: 0, maxNewTokens: 24 };
      const victim = (async () => {
        let n = 0;
        for await (const ch of batched.captionStream({ samples: readWav16k(CLIPS[1]), sampleRate: 16000 }, { ...opts, signal: ac.signal })) {
          if (ch.type === 'token' && ++n === 3) ac.abort();
        }
      })();
      const others = Promise.all([0, 2].map((i) => batched.caption({ samples: readWav16k(CLIPS[i]), sampleRate: 16000 }, opts)));
      await expect(victim).rejects.toMatchObject({ code: 'ABORTED' });
      const got = await others;
      const want = [await engine.caption({ samples: readWav16k(CLIPS[0]), sampleRate: 16000 }, opts), await engine.caption({ samples: readWav16k(CLIPS[2]), sampleRate: 16000 }, opts)];
      expect(got.map((r) => r.caption)).toEqual(want.map((r) => r.caption));
    } finally {
      await batched.dispose();
    }
  });
});

describe('batch options are validated', () => {
  it('rejects a bad maxBatch with a typed error', async () => {
    await expect(loadCaptioner(FIXTURE_DIR, { provider: 'cpu', threads: 1, batch: { maxBatch: 0 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
