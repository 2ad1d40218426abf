import { loadCaptioner } from '../../src/engine';
import type { Captioner } from '../../src/engine/types';
import { benchServer } from '../../src/bench/server-bench';
import { createServer, type OmnicapServer } from '../../src/server';
import { MODEL_DIR, SPEECH_3S } from './helpers';

let captioner: Captioner;
let server: OmnicapServer;
let url: string;

beforeAll(async () => {
  captioner = await loadCaptioner(MODEL_DIR, { provider: 'cpu', threads: 1 });
  // one generation at a time and no queue: concurrency > 1 must produce real 429s
  server = createServer({ captioner, concurrency: 1, maxQueue: 0 });
  url = (await server.listen(0, '127.0.0.1')).url;
  await server.ready();
});

afterAll(async () => {
  await server?.close();
  await captioner?.dispose();
});

describe('server concurrency sweep (real HTTP on loopback)', () => {
  it('counts successes, 429s and latency percentiles per level', async () => {
    const r = await benchServer({ url, input: SPEECH_3S, concurrency: [1, 4], requests: 8, maxTokens: 16 });
    expect(r.levels.map((l) => l.concurrency)).toEqual([1, 4]);
    const [serial, parallel] = r.levels;
    // serial: every request gets the slot
    expect(serial).toMatchObject({ requests: 8, ok: 8, rejected429: 0, errors: 0 });
    expect(serial.latency?.n).toBe(8);
    expect(serial.requestsPerSecond).toBeGreaterThan(0);
    expect(serial.completionTokensPerSecond).toBeGreaterThan(0);
    // 4 in flight against 1 slot and no queue: some are turned away with 429
    expect(parallel.requests).toBe(8);
    expect(parallel.ok + parallel.rejected429 + parallel.errors).toBe(8);
    expect(parallel.ok).toBeGreaterThanOrEqual(1);
    expect(parallel.rejected429).toBeGreaterThanOrEqual(1);
    expect(parallel.failures['429']).toBe(parallel.rejected429);
    // the server's event-loop gauge over each level, and /healthz probed while it ran
    for (const l of r.levels) {
      expect(l.serverEventLoop).toBeDefined();
      expect(l.serverEventLoop!.p50).toBeGreaterThan(0);
      expect(l.serverEventLoop!.p99).toBeLessThanOrEqual(l.serverEventLoop!.max);
    }
    expect(serial.healthz?.n).toBeGreaterThan(0);
  });

  it('reports connection failures as errors and validates options', async () => {
    const r = await benchServer({ url: 'http://127.0.0.1:1', input: SPEECH_3S, concurrency: [2], requests: 2, maxTokens: 2 });
    expect(r.levels[0]).toMatchObject({ ok: 0, errors: 2, failures: { network: 2 } });
    expect(r.levels[0].latency).toBeUndefined();
    expect(r.levels[0].serverEventLoop).toBeUndefined();
    await expect(benchServer({ url: 'ftp://x', input: SPEECH_3S, concurrency: [1], requests: 1, maxTokens: 2 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(benchServer({ url, input: '/nonexistent.wav', concurrency: [1], requests: 1, maxTokens: 2 })).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
  });
});
