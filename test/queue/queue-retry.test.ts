/**
 * Retries and aborts on a real redis-server with an in-process worker: an LLM endpoint that is
 * down is retried with backoff (BullMQ attempts), cancellation, lock loss and the per-job timeout
 * reach the clip's AbortSignal. The detective LLM is the fake loopback model (fake-llm.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { cancelClips, jobIdFor, parseQueueUrl, redisOptions, runQueuedDetect, runQueueWorker, startQueueWorker, type RunPolicy } from '../../src/detective/queue';
import { FakeLlm } from './fake-llm';
import { collectingLogger, expectOneLinePerClip, load, manifestFor, writeInput } from './helpers';
import { guarded } from '../wait';
import { RedisServer } from './redis';

let redis: RedisServer;
let llm: FakeLlm;
let dir: string;

beforeAll(async () => {
  redis = await RedisServer.start();
  llm = await new FakeLlm({ tools: ['signal'] }).start();
  dir = mkdtempSync(join(tmpdir(), 'omnicap-queue-retry-'));
});
afterAll(async () => {
  await llm?.stop();
  await redis?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

async function run(name: string, n: number, policy: Partial<RunPolicy>, during?: (queue: Queue) => Promise<void>, lockMs = 5000): Promise<{ out: string; ids: string[]; logs: () => string }> {
  const { input, ids } = writeInput(join(dir, name), n);
  const clips = load(input);
  const out = join(dir, name, 'out.jsonl');
  const loc = parseQueueUrl(redis.url());
  const { logger, text } = collectingLogger();
  // stopped (its clips back in the queue, its connections closed) when this function returns or throws
  await using worker = startQueueWorker({ location: loc, queueName: name, concurrency: 2, cache: 'none', lockMs, stalledIntervalMs: 1000, logger });
  void worker;
  const queue = new Queue(name, { connection: redisOptions(loc) });
  queue.on('error', () => undefined);
  try {
    const sink = runQueuedDetect({ location: loc, queueName: name, clips, manifest: manifestFor(input, clips, llm.url, policy), output: out, pollMs: 100 });
    if (during !== undefined) await during(queue);
    const s = await sink;
    expect(s.missing).toBe(0);
  } finally {
    await queue.close();
  }
  return { out, ids, logs: text };
}

describe('queue retries and aborts', () => {
  it('retries a clip while the LLM endpoint is down, and the line is a normal ok line', async () => {
    llm.fail503 = 6; // one job attempt = 4 HTTP attempts (OpenAIChatModel's own retries): attempt 1 fails, attempt 2 succeeds
    const { out, ids } = await run('down', 1, { attempts: 3, backoffMs: 200 });
    const [line] = expectOneLinePerClip(out, ids);
    expect(llm.served503).toBe(6);
    expect(line.status).not.toBe('error');
    expect(line.omni_detective_trajectory?.find((r) => r.tool === 'signal')?.answer).toMatch(/LUFS/);
    expect(JSON.stringify(line)).not.toMatch(/scripted outage|HTTP 503/); // not a degraded leftover of the outage
    const q = new Queue('down', { connection: redisOptions(parseQueueUrl(redis.url())) });
    q.on('error', () => undefined);
    expect((await q.getJob(jobIdFor(ids[0])))?.attemptsMade).toBe(2); // one failed attempt, then the one that completed
    await q.close();
  });

  it('keeps what the last attempt made when the endpoint stays down: a degraded line that says why', async () => {
    llm.fail503 = 1000;
    try {
      const { out, ids } = await run('stays-down', 1, { attempts: 2, backoffMs: 100 });
      const [line] = expectOneLinePerClip(out, ids) as Array<{ status: string; degraded_reasons?: string[]; caption?: string }>;
      expect(line.status).toBe('degraded');
      expect(line.degraded_reasons?.join(' ')).toMatch(/the synthesis call failed \(UPSTREAM_ERROR: LLM endpoint returned HTTP 503/);
    } finally {
      llm.fail503 = 0;
    }
  });

  it('cancellation aborts the running clip and writes a QUEUE_JOB_CANCELLED line', async () => {
    llm.hang.add('clip-1');
    // the guard is half the LLM client's 120 s timeout: the run can only end within it if the cancel aborted the request
    const cancelled = run('cancel', 2, { attempts: 3 }, async () => {
      await llm.until(() => (llm.byClip.get('clip-1') ?? 0) > 0, 'the clip to reach the LLM');
      const r = await cancelClips(parseQueueUrl(redis.url()), 'cancel', ['clip-1'], 'operator said stop');
      expect(r).toEqual({ marked: 1, notFound: [] });
    });
    const { out, ids } = await guarded(cancelled, 'the cancelled run to end', 60_000);
    llm.hang.delete('clip-1');
    const lines = expectOneLinePerClip(out, ids);
    const c = lines.find((l) => l.id === 'clip-1');
    expect(c?.status).toBe('error');
    expect(c?.error).toMatchObject({ code: 'QUEUE_JOB_CANCELLED', message: 'operator said stop' });
    expect(lines.find((l) => l.id === 'clip-0')?.status).not.toBe('error');
    expect(llm.aborted).toBeGreaterThanOrEqual(1); // the HTTP request of the clip was aborted
  });

  it('a per-job timeout aborts the clip, is retried, and ends in a TIMEOUT line after the last attempt', async () => {
    llm.hang.add('clip-0');
    const before = llm.byClip.get('clip-0') ?? 0;
    const { out, ids } = await run('timeout', 1, { attempts: 2, backoffMs: 100, jobTimeoutMs: 1500 });
    llm.hang.delete('clip-0');
    const [line] = expectOneLinePerClip(out, ids);
    expect(line).toMatchObject({ status: 'error', attempts: 2, error: { code: 'TIMEOUT', message: expect.stringMatching(/per-job timeout of 1500 ms/) } });
    expect((llm.byClip.get('clip-0') ?? 0) - before).toBe(2); // one request per attempt
  });

  it('a lost job lock aborts the clip; the stalled job is redone and written once', async () => {
    llm.hang.add('clip-0');
    const abortedBefore = llm.aborted;
    const seen = llm.byClip.get('clip-0') ?? 0;
    const { out, ids, logs } = await run(
      'lock',
      1,
      { attempts: 3 },
      async () => {
        await llm.until(() => (llm.byClip.get('clip-0') ?? 0) > seen, 'the clip to reach the LLM');
        // another party takes the lock away (as when it expired during a long stall)
        const r = new IORedis(redisOptions(parseQueueUrl(redis.url())));
        expect(await r.del(`bull:lock:${jobIdFor('clip-0')}:lock`)).toBe(1);
        await r.quit();
        await llm.until(() => llm.aborted > abortedBefore, 'the clip to be aborted');
        llm.hang.delete('clip-0'); // the redo goes through
      },
      2000,
    );
    const [line] = expectOneLinePerClip(out, ids);
    expect(line.status).not.toBe('error');
    expect(logs()).toMatch(/stalled|lost the lock/);
  });

  it('stopping a worker (SIGTERM) mid-clip puts the clip back in the queue without using an attempt', async () => {
    const name = 'stop';
    const { input, ids } = writeInput(join(dir, name), 1);
    const clips = load(input);
    const out = join(dir, name, 'out.jsonl');
    const loc = parseQueueUrl(redis.url());
    llm.hang.add('clip-0');
    const seen = llm.byClip.get('clip-0') ?? 0;
    const a = new AbortController();
    const first = runQueueWorker({ location: loc, queueName: name, cache: 'none', signal: a.signal });
    const sink = runQueuedDetect({ location: loc, queueName: name, clips, manifest: manifestFor(input, clips, llm.url, { attempts: 2 }), output: out, pollMs: 100 });
    const queue = new Queue(name, { connection: redisOptions(loc) });
    queue.on('error', () => undefined);
    try {
      await llm.until(() => (llm.byClip.get('clip-0') ?? 0) > seen, 'the clip to reach the LLM');
      a.abort();
      await first;
      const job = await queue.getJob(jobIdFor('clip-0'));
      expect(await job?.getState()).toBe('waiting');
      expect(job?.attemptsMade).toBe(0);
      llm.hang.delete('clip-0');
      const b = new AbortController();
      const second = runQueueWorker({ location: loc, queueName: name, cache: 'none', signal: b.signal });
      const s = await sink;
      b.abort();
      await second;
      expect(s.missing).toBe(0);
      const [line] = expectOneLinePerClip(out, ids);
      expect(line.status).not.toBe('error');
      expect((await queue.getJob(jobIdFor('clip-0')))?.attemptsMade).toBe(1); // only the attempt that completed
    } finally {
      llm.hang.delete('clip-0');
      await queue.close();
    }
  });
});
