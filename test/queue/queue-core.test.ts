/**
 * The queue core on a real redis-server with in-process producer/sink and worker (library API):
 * one job per clip, one line per clip, idempotent re-enqueue, a bad clip's error line without
 * retry, refusal of another run, unreachable Redis and wrong URLs. The detective LLM is the fake
 * loopback model of fake-llm.ts (queue mechanics only); the observer (signal) and media are real.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { main } from '../../src/cli/main';
import { checkRedis, jobIdFor, parseQueueUrl, queueStatus, redisOptions, runQueuedDetect, startQueueWorker, type QueueWorkerSummary } from '../../src/detective/queue';
import { FakeLlm } from './fake-llm';
import { captureIo, collectingLogger, expectOneLinePerClip, load, manifestFor, readLines, writeInput } from './helpers';
import { freePort, RedisServer } from './redis';

let redis: RedisServer;
let llm: FakeLlm;
let dir: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  llm = await new FakeLlm({ tools: ['signal'], delayMs: 20 }).start();
  dir = mkdtempSync(join(tmpdir(), 'omnicap-queue-core-'));
});
afterAll(async () => {
  await llm?.stop();
  await redis?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function startWorker(queueName: string, concurrency = 2): { stop: () => Promise<QueueWorkerSummary>; logs: () => string } {
  const { logger, text } = collectingLogger();
  const worker = startQueueWorker({ location: parseQueueUrl(redis.url()), queueName, concurrency, cache: 'redis', lockMs: 5000, stalledIntervalMs: 1000, logger });
  return { logs: text, stop: () => worker.stop() };
}

describe('queue core (real Redis, in-process worker)', () => {
  it('annotates every clip once: ok lines carry the real observations, the corrupt clip an error line without retry', async () => {
    const { input, ids } = writeInput(join(dir, 'a'), 4, { corrupt: true });
    const clips = load(input);
    const manifest = manifestFor(input, clips, llm.url);
    const out = join(dir, 'a', 'out.jsonl');
    const w = startWorker('core');
    const s = await runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'core', clips, manifest, output: out, pollMs: 100 });
    const summary = await w.stop();
    expect(s.enqueue).toEqual({ total: 5, alreadyWritten: 0, added: 5, inQueue: 0, retried: 0 });
    expect(s.missing).toBe(0);
    expect(s.written?.errors).toBe(1);
    const lines = expectOneLinePerClip(out, ids);
    for (const l of lines.filter((x) => x.id !== 'poison')) {
      expect(['ok', 'degraded']).toContain(l.status);
      const signal = l.omni_detective_trajectory?.find((r) => r.tool === 'signal');
      expect(signal?.status).toBe('ok');
      expect(signal?.answer).toMatch(/LUFS/); // measured on the real clip
      expect(l.caption).toMatch(/LUFS|loudness/i);
      expect(l.input?.source).toMatch(/^(alsa|cards)-/); // the input line is passed through
    }
    const poison = lines.find((l) => l.id === 'poison');
    expect(poison?.status).toBe('error');
    expect(poison?.error?.code).toMatch(/^MEDIA_/);
    expect(poison?.attempts).toBe(1); // a bad clip is not retried
    expect(llm.byClip.get('poison')).toBeUndefined(); // it failed before any LLM call
    expect(summary).toMatchObject({ errors: 1, retried: 0 });
    expect(summary.ok + summary.degraded).toBe(4);
    // BullMQ state: the poisoned job failed once, for good
    const q = new Queue('core', { connection: redisOptions(parseQueueUrl(redis.url())) });
    const job = await q.getJob(jobIdFor('poison'));
    expect(await job?.getState()).toBe('failed');
    expect(job?.attemptsMade).toBe(1);
    await q.close();
    // progress from the queue
    const st = await queueStatus(parseQueueUrl(redis.url()), 'core');
    expect(st).toMatchObject({ total: 5, completed: 4, failed: 1, active: 0, waiting: 0, delayed: 0, etaSeconds: 0 });
    expect(st.run?.input.clips).toBe(5);
    expect(st.sink).toBeNull(); // released at the end

    // the same input again: nothing enqueued, nothing written twice
    const before = readFileSync(out, 'utf8');
    const again = await runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'core', clips, manifest, output: out, pollMs: 100 });
    expect(again.enqueue).toMatchObject({ added: 0, alreadyWritten: 5 });
    expect(readFileSync(out, 'utf8')).toBe(before);
    // and without the output (enqueue only): the jobs are in the queue already
    const only = await runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'core', clips, manifest });
    expect(only.enqueue).toMatchObject({ added: 0, inQueue: 5 });

    // --retry-failed: the poisoned clip's line deleted from the output, its failed job runs again
    writeFileSync(out, before.split('\n').filter((l) => l !== '' && !l.includes('"id":"poison"')).map((l) => `${l}\n`).join(''));
    const w2 = startWorker('core');
    const retried = await runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'core', clips, manifest, output: out, retryFailed: true, pollMs: 100 });
    await w2.stop();
    expect(retried.enqueue).toMatchObject({ added: 0, inQueue: 1, retried: 1, alreadyWritten: 4 });
    expect(retried.written).toEqual({ ok: 0, degraded: 0, errors: 1 });
    const again2 = expectOneLinePerClip(out, ids);
    expect(again2.find((l) => l.id === 'poison')?.error?.code).toMatch(/^MEDIA_/); // still corrupt: the same verdict, once

    // the CLI: status as JSON, then obliterate frees the queue for another run
    const cli = async (argv: string[]): Promise<{ code: number; out: string; err: string }> => {
      const io = captureIo();
      const code = await main(argv, io);
      return { code, out: io.out(), err: io.err() };
    };
    const status = await cli(['queue', 'status', '--queue', redis.url(), '--queue-name', 'core', '--json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.out)).toMatchObject({ queue: 'core', total: 5, completed: 4, failed: 1, waiting: 0, run: { input: { clips: 5 }, llm: { model: 'fake-detective' }, observers: { names: ['signal'] } }, sink: null });
    expect((await cli(['queue', 'status', '--queue', redis.url(), '--queue-name', 'core'])).out).toMatch(/^queue core: 4 done, 1 failed, 0 active, 0 waiting, 0 retrying, .*\nrun: 5 clips from .*input\.jsonl, LLM fake-detective, observers signal/);
    expect(await cli(['queue', 'obliterate', '--queue', redis.url(), '--queue-name', 'core'])).toMatchObject({ code: 0, out: 'queue core: every job and the run manifest removed\n' });
    expect(JSON.parse((await cli(['queue', 'status', '--queue', redis.url(), '--queue-name', 'core', '--json'])).out)).toMatchObject({ completed: 0, failed: 0, run: null });
  });

  it('a sink restarted on a partial output writes only the missing lines', async () => {
    const { input, ids } = writeInput(join(dir, 'b'), 3);
    const clips = load(input);
    const manifest = manifestFor(input, clips, llm.url);
    const out = join(dir, 'b', 'out.jsonl');
    const w = startWorker('resume');
    await runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'resume', clips, manifest, output: out, pollMs: 100 });
    await w.stop();
    const full = readFileSync(out, 'utf8').split('\n').filter((l) => l !== '');
    // keep the first line and a torn half of the second (a crash mid-write)
    writeFileSync(out, `${full[0]}\n${full[1].slice(0, 40)}`);
    const s = await runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'resume', clips, manifest, output: out, pollMs: 100 });
    expect((s.written?.ok ?? 0) + (s.written?.degraded ?? 0)).toBe(2); // from the finished jobs, no rerun
    const lines = expectOneLinePerClip(out, ids);
    expect(JSON.stringify(lines[0])).toBe(full[0]);
  });

  it('refuses a run of another input or prompt version on the same queue, enqueueing nothing', async () => {
    const a = writeInput(join(dir, 'c'), 2);
    const clipsA = load(a.input);
    await runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'guarded', clips: clipsA, manifest: manifestFor(a.input, clipsA, llm.url) });
    const b = writeInput(join(dir, 'd'), 3);
    const clipsB = load(b.input);
    await expect(runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'guarded', clips: clipsB, manifest: manifestFor(b.input, clipsB, llm.url), output: join(dir, 'd', 'out.jsonl') })).rejects.toMatchObject({
      code: 'QUEUE_RUN_MISMATCH',
      details: { differences: ['input'] },
      message: expect.stringMatching(/holds jobs of another run.*nothing was enqueued.*input: the queue has input .*\(2 clips.*this run has input .*\(3 clips/),
    });
    const otherRounds = manifestFor(a.input, clipsA, llm.url, {}, { rounds: 5 });
    await expect(runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'guarded', clips: clipsA, manifest: otherRounds })).rejects.toMatchObject({ code: 'QUEUE_RUN_MISMATCH', details: { differences: ['options'] } });
    const q = new Queue('guarded', { connection: redisOptions(parseQueueUrl(redis.url())) });
    expect(await q.getJobCounts('waiting')).toEqual({ waiting: 2 }); // nothing of the refused runs
    await q.obliterate({ force: true });
    await q.close();
    // jobs without a manifest (another producer) are refused too
    const foreign = new Queue('foreign', { connection: redisOptions(parseQueueUrl(redis.url())) });
    await foreign.add('x', { hello: 1 });
    await expect(runQueuedDetect({ location: parseQueueUrl(redis.url()), queueName: 'foreign', clips: clipsA, manifest: manifestFor(a.input, clipsA, llm.url) })).rejects.toMatchObject({ code: 'QUEUE_RUN_MISMATCH', message: expect.stringMatching(/no run manifest/) });
    await foreign.close();
  });

  it('gives clear errors for an unreachable Redis, a non-Redis port and wrong URLs', async () => {
    const port = await freePort();
    // refused at once (ECONNREFUSED in the message), not after the 3 s connect timeout
    await expect(checkRedis(parseQueueUrl(`redis://127.0.0.1:${port}/0`), 3000)).rejects.toMatchObject({ code: 'QUEUE_UNREACHABLE', message: expect.stringMatching(/cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+\/0: .*ECONNREFUSED.*start Redis/) });
    await expect(checkRedis(parseQueueUrl(`redis://127.0.0.1:${llm.port}/0`), 3000)).rejects.toMatchObject({ code: 'QUEUE_UNREACHABLE' });
    expect(() => parseQueueUrl('http://127.0.0.1:6379/0')).toThrow(/redis:\/\/ or rediss:\/\/ URL but has the scheme "http"/);
    expect(() => parseQueueUrl('redis://127.0.0.1:6379/99')).toThrow(/database number 0-15/);
    expect(() => parseQueueUrl('127.0.0.1:6379')).toThrow(/INVALID|redis/);
    expect(() => parseQueueUrl('not a url')).toThrow(/is not a URL/);
    // the producer loses nothing: it fails before touching the output
    const { input } = writeInput(join(dir, 'e'), 1);
    const clips = load(input);
    await expect(runQueuedDetect({ location: parseQueueUrl(`redis://127.0.0.1:${port}/0`), queueName: 'x', clips, manifest: manifestFor(input, clips, llm.url), output: join(dir, 'e', 'out.jsonl') })).rejects.toMatchObject({ code: 'QUEUE_UNREACHABLE' });
    expect(readLines(join(dir, 'e', 'out.jsonl'))).toEqual([]);
  });
});
