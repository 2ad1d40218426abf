/**
 * The queue worker's observation cache and lifecycle on real redis-servers: a wrong --cache URL is
 * refused at start with CACHE_UNAVAILABLE (library and CLI); a cache Redis that dies after the
 * worker started is skipped, counted in the worker's summary and logged once per kind while every
 * clip still gets its line; an `await using` worker closes its Redis connections when its block
 * is left. The detective LLM is the loopback fake of fake-llm.ts; observer and clips are real.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import IORedis from 'ioredis';
import { main } from '../../src/cli/main';
import { OBSERVATION_PREFIX, parseQueueUrl, RedisObservationCache, runQueuedDetect, startQueueWorker } from '../../src/detective/queue';
import { InfraFailures } from '../../src/util/failures';
import { FakeLlm } from './fake-llm';
import { captureIo, collectingLogger, expectOneLinePerClip, load, manifestFor, pollUntil, writeInput } from './helpers';
import { freePort, RedisServer } from './redis';

let redis: RedisServer;
let llm: FakeLlm;
let dir: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  llm = await new FakeLlm({ tools: ['signal'] }).start();
  dir = mkdtempSync(join(tmpdir(), 'omnicap-queue-cache-'));
});
afterAll(async () => {
  await llm?.stop();
  await redis?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

/** Clients connected to `server` other than the one asking. */
async function otherClients(server: RedisServer): Promise<number> {
  const probe = new IORedis(server.port, '127.0.0.1');
  try {
    const list = String(await probe.call('CLIENT', 'LIST'));
    return list.split('\n').filter((l) => l.trim() !== '').length - 1;
  } finally {
    probe.disconnect();
  }
}

describe('observation cache of the queue worker', () => {
  it('a --cache URL where no Redis listens is CACHE_UNAVAILABLE at start, naming the URL (library and CLI)', async () => {
    const port = await freePort();
    const bad = `redis://127.0.0.1:${port}/0`;
    const worker = startQueueWorker({ location: parseQueueUrl(redis.url()), queueName: 'badcache', cache: bad });
    await expect(worker.done).rejects.toMatchObject({
      code: 'CACHE_UNAVAILABLE',
      message: expect.stringMatching(new RegExp(`observation cache at redis://127\\.0\\.0\\.1:${port}/0 cannot be used.*ECONNREFUSED.*fix --cache`)),
    });
    await worker.dispose(); // already stopped: resolves
    const io = captureIo();
    expect(await main(['worker', '--queue', redis.url(), '--queue-name', 'badcache', '--cache', bad], io)).toBe(1);
    expect(io.err()).toMatch(new RegExp(`omnicap worker: error CACHE_UNAVAILABLE: the observation cache at redis://127\\.0\\.0\\.1:${port}/0`));
  });

  it('a cache Redis that dies after start: every clip still gets its line; the failures are counted and logged once per kind', async () => {
    const cacheRedis = await RedisServer.start();
    const { input, ids } = writeInput(join(dir, 'dies'), 3);
    const clips = load(input);
    const out = join(dir, 'dies', 'out.jsonl');
    const { logger, lines } = collectingLogger();
    const worker = startQueueWorker({ location: parseQueueUrl(redis.url()), queueName: 'dies', cache: cacheRedis.url(), logger });
    try {
      await pollUntil(() => lines.some((l) => l.msg === 'waiting for a run on the queue'), 20_000, 'the worker to start');
      await cacheRedis.stop(); // killed: the connection the cache opened at start is gone
      const s = await runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'dies', clips, manifest: manifestFor(input, clips, llm.url), output: out, pollMs: 100 });
      expect(s.missing).toBe(0);
      for (const l of expectOneLinePerClip(out, ids)) {
        expect(l.status).not.toBe('error');
        expect(l.omni_detective_trajectory?.find((r) => r.tool === 'signal')?.answer).toMatch(/LUFS/); // measured, not cached
      }
      const summary = await worker.stop();
      expect(summary.ok + summary.degraded).toBe(3);
      expect(summary.infraFailures.observation_cache_read).toBeGreaterThanOrEqual(3);
      expect(summary.infraFailures.observation_cache_write).toBeGreaterThanOrEqual(3);
      const logged = lines.filter((l) => l.msg === 'infrastructure failure');
      for (const kind of ['observation_cache_read', 'observation_cache_write']) {
        const mine = logged.filter((l) => l.kind === kind);
        expect(mine).toHaveLength(1); // once per kind, not once per call
        expect(mine[0]).toMatchObject({ level: 'warn', code: 'CACHE_UNAVAILABLE', error: expect.stringContaining(cacheRedis.url()) });
      }
    } finally {
      await worker.dispose();
      await cacheRedis.dispose();
    }
  });

  it('the default cache (the queue Redis) stores the observations without failures', async () => {
    const { input, ids } = writeInput(join(dir, 'hit'), 2);
    const clips = load(input);
    const probe = new IORedis(redis.port, '127.0.0.1');
    const before = (await probe.keys(`${OBSERVATION_PREFIX}*`)).length;
    {
      await using worker = startQueueWorker({ location: parseQueueUrl(redis.url()), queueName: 'hit', cache: 'redis' });
      await runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'hit', clips, manifest: manifestFor(input, clips, llm.url), output: join(dir, 'hit', 'out.jsonl'), pollMs: 100 });
      expect((await worker.stop()).infraFailures).toEqual({});
    }
    expectOneLinePerClip(join(dir, 'hit', 'out.jsonl'), ids);
    try {
      expect((await probe.keys(`${OBSERVATION_PREFIX}*`)).length).toBeGreaterThan(before);
    } finally {
      probe.disconnect();
    }
  });
});

test('a disposed Redis cache refuses reads and writes with DISPOSED', async () => {
  const { logger } = collectingLogger();
  let kept: RedisObservationCache | undefined;
  {
    await using cache = await RedisObservationCache.connect(parseQueueUrl(redis.url()), { failures: new InfraFailures(logger) });
    kept = cache;
    expect(await cache.get('0'.repeat(64))).toBeUndefined(); // a miss
  }
  await expect(kept.get('0'.repeat(64))).rejects.toMatchObject({ code: 'DISPOSED', message: `the observation cache at ${parseQueueUrl(redis.url()).display} was disposed` });
  await expect(kept.put({ key: '0'.repeat(64), clipHash: 'x', observer: 'signal', question: 'q', answer: 'a' })).rejects.toMatchObject({ code: 'DISPOSED' });
});

describe('a run record that cannot be read', () => {
  it('is QUEUE_RUN_MISMATCH for the producer and the worker, not "no run yet"', async () => {
    const probe = new IORedis(redis.port, '127.0.0.1');
    try {
      await probe.set('omnicap:{foreign}:run', '{"version":9,"from":"a newer omnicap"}');
    } finally {
      probe.disconnect();
    }
    const { input } = writeInput(join(dir, 'foreign'), 1);
    const clips = load(input);
    const mismatch = { code: 'QUEUE_RUN_MISMATCH', message: expect.stringContaining('holds a run record (omnicap:{foreign}:run) that this omnicap cannot read') };
    await expect(runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'foreign', clips, manifest: manifestFor(input, clips, llm.url), output: join(dir, 'foreign', 'out.jsonl') })).rejects.toMatchObject(mismatch);
    await using worker = startQueueWorker({ location: parseQueueUrl(redis.url()), queueName: 'foreign', cache: 'none' });
    await expect(worker.done).rejects.toMatchObject(mismatch);
  });
});

describe('await using a queue worker', () => {
  it('leaving the block stops the worker and closes its Redis connections', async () => {
    const baseline = await otherClients(redis);
    const { logger, lines } = collectingLogger();
    {
      await using worker = startQueueWorker({ location: parseQueueUrl(redis.url()), queueName: 'scoped', cache: 'redis', logger });
      void worker;
      await pollUntil(() => lines.some((l) => l.msg === 'waiting for a run on the queue'), 20_000, 'the worker to start');
      expect(await otherClients(redis)).toBeGreaterThan(baseline);
    }
    await pollUntil(async () => (await otherClients(redis)) === baseline, 10_000, 'the worker connections to close');
  });
});
