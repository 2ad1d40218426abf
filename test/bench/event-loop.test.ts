import { LoopDelaySampler, benchEventLoop, delayOf } from '../../src/bench/event-loop';
import { MODEL_DIR, SPEECH_3S } from './helpers';

describe('event-loop stage (real engine on both runtimes)', () => {
  it('monitors the same captions per runtime plus an idle baseline', async () => {
    const rows = await benchEventLoop({ modelDir: MODEL_DIR, input: SPEECH_3S, runtimes: ['main', 'worker'], provider: 'cpu', runs: 2, maxTokens: 8, concurrency: 2, threads: 1 });
    expect(rows.map((r) => r.runtime)).toEqual(['idle', 'main', 'worker']);
    const [idle, main, worker] = rows;
    for (const r of [main, worker]) {
      expect(r.captions).toBe(4);
      expect(r.completionTokens).toBeGreaterThan(0);
      expect(r.completionTokens).toBeLessThanOrEqual(4 * 8);
      expect(r.delay.samples).toBeGreaterThan(0);
      expect(r.delay.p50).toBeGreaterThan(0);
      expect(r.delay.p50).toBeLessThanOrEqual(r.delay.p99);
      expect(r.delay.p99).toBeLessThanOrEqual(r.delay.max + 1e-9);
    }
    expect(main.completionTokens).toBe(worker.completionTokens); // greedy: the same work on both
    expect(idle.captions).toBe(0);
    expect(idle.monitoredMs).toBeCloseTo((main.monitoredMs + worker.monitoredMs) / 2, 6);
    await expect(benchEventLoop({ modelDir: MODEL_DIR, input: SPEECH_3S, runtimes: [], provider: 'cpu', runs: 1, maxTokens: 2 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('LoopDelaySampler', () => {
  const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const block = (ms: number): void => {
    const t = performance.now();
    while (performance.now() - t < ms) {
      // busy: the loop cannot run timers
    }
  };
  it('records a block inside a window, and nothing of the time between windows', async () => {
    const s = new LoopDelaySampler();
    s.start();
    await sleep(30);
    block(60);
    await sleep(30);
    s.stop();
    block(1000); // another runtime's work while the sampler is stopped
    await sleep(20);
    s.start();
    await sleep(50);
    s.stop();
    const d = delayOf(s.histogram);
    expect(d.max).toBeGreaterThanOrEqual(55);
    expect(d.max).toBeLessThan(1000); // the stopped second is not in it (monitorEventLoopDelay would report ~1020 here)
    expect(d.samples).toBeGreaterThan(20);
    expect(d.p50).toBeLessThan(20);
  });
});
