import { benchEventLoop } from '../../src/bench/event-loop';
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
