/**
 * Fault tests with real processes: `omnicap detect --queue` (producer + sink) and two or more
 * `omnicap worker` processes on one real redis-server. A worker is killed with SIGKILL mid-clip and
 * its clip is redone by the other; Redis is killed and restarted mid-run (append-only file); the
 * same input is enqueued twice and a second sink is refused; the sink itself is killed and
 * restarted; a poisoned (corrupt) clip gets one error line. After each: exactly one complete line
 * per clip. The detective LLM is the fake loopback model (fake-llm.ts: queue mechanics only); the
 * signal observer and the clips are real.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import { jobIdFor, parseQueueUrl, redisOptions } from '../../src/detective/queue';
import { FakeLlm } from './fake-llm';
import { CLI, expectOneLinePerClip, readLines, untilFileChanges, writeInput } from './helpers';
import { RedisServer } from './redis';
import { guarded, until } from '../wait';

let llm: FakeLlm;
let root: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  expect(existsSync(CLI)).toBe(true); // built by scripts/setup.sh
  // one LLM call per clip (the signal report is gathered up front): 1 s keeps clips in flight while the faults land
  llm = await new FakeLlm({ tools: ['signal'], delayMs: 1000 }).start();
  root = mkdtempSync(join(tmpdir(), 'omnicap-queue-faults-'));
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await llm?.stop();
  rmSync(root, { recursive: true, force: true });
});

interface Proc {
  child: ChildProcess;
  out: () => string;
  /** Resolves once `re` matches the output so far, re-checked at each chunk of it. */
  waitOut(re: RegExp, what: string): Promise<void>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function cli(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMNICAP_EXIT_WITH_PARENT: '0' } });
  children.push(child);
  let text = '';
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  const streams: Array<[NodeJS.EventEmitter, string]> = [[child, 'exit']];
  if (child.stdout !== null) streams.push([child.stdout, 'data']);
  if (child.stderr !== null) streams.push([child.stderr, 'data']);
  return { child, out: () => text, waitOut: (re, what) => until(() => re.test(text), streams, what), exit };
}

function worker(url: string, queue: string): Proc {
  return cli(['worker', '--queue', url, '--queue-name', queue, '--concurrency', '1', '--lock-ms', '3000', '--stalled-interval-ms', '1000', '--max-stalled', '3']);
}

function producer(url: string, queue: string, input: string, out: string, extra: string[] = []): Proc {
  return cli(['detect', '--queue', url, '--queue-name', queue, '--input', input, ...(out === '' ? ['--enqueue-only'] : ['--output', out]), '--llm-url', llm.url, '--llm-model', 'fake-detective', '--observers', 'signal', '--rounds', '3', '--attempts', '3', '--backoff-ms', '200', '--progress', 'json', ...extra]);
}

async function stopAll(ps: Proc[]): Promise<void> {
  for (const p of ps) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
  await Promise.all(ps.map((p) => within(p.exit, 15_000)));
}

/** `p`, or 'timeout' after `ms` (the timer is cleared either way). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([p, new Promise<'timeout'>((res) => (timer = setTimeout(() => res('timeout'), ms)))]);
  clearTimeout(timer);
  return r;
}

const complete = (f: string): number => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').length - 1 : 0);

describe('queue faults with real processes', () => {
  it('kill -9 of a worker mid-clip: its clip is redone by the other worker; the poisoned clip gets one error line', async () => {
    const redis = await RedisServer.start();
    const dir = join(root, 'kill');
    const { input, ids } = writeInput(dir, 8, { corrupt: true });
    const out = join(dir, 'out.jsonl');
    const w1 = worker(redis.url(), 'kill');
    const w2 = worker(redis.url(), 'kill');
    const p = producer(redis.url(), 'kill', input, out);
    const q = new Queue('kill', { connection: redisOptions(parseQueueUrl(redis.url())) });
    q.on('error', () => undefined);
    const events = new QueueEvents('kill', { connection: redisOptions(parseQueueUrl(redis.url())) });
    events.on('error', () => undefined);
    try {
      // at the queue's next 'active' event (a worker took a clip), SIGKILL exactly that worker
      await events.waitUntilReady();
      const victim = await guarded(
        new Promise<{ pid: number; job: string }>((resolve, reject) => {
          events.on('active', ({ jobId }: { jobId: string }) => {
            void q.getJob(jobId).then((j) => {
              const pid = Number(j?.processedBy?.split('/').pop());
              if ([w1, w2].some((w) => w.child.pid === pid)) resolve({ pid, job: jobId });
            }, reject);
          });
        }),
        'a worker to take a clip',
      );
      const killed = [w1, w2].find((w) => w.child.pid === victim.pid)!;
      const other = [w1, w2].find((w) => w !== killed)!;
      killed.child.kill('SIGKILL');
      expect((await killed.exit).signal).toBe('SIGKILL');
      const r = await within(p.exit, 90_000);
      expect(r).toEqual({ code: 1, signal: null }); // 1: the poisoned clip failed
      const lines = expectOneLinePerClip(out, ids);
      expect(lines.find((l) => l.id === 'poison')).toMatchObject({ status: 'error', error: { code: expect.stringMatching(/^MEDIA_/) }, attempts: 1 });
      for (const l of lines.filter((x) => x.id !== 'poison')) expect(l.omni_detective_trajectory?.find((t) => t.tool === 'signal')?.answer).toMatch(/LUFS/);
      // the killed worker's clip: back in the queue after its lock expired, finished by the other worker
      const job = await q.getJob(victim.job);
      expect(await job?.getState()).toBe('completed');
      expect(job?.processedBy).toBe(`${job?.processedBy?.split('/')[0]}/${other.child.pid}`);
      expect(p.out()).toMatch(/"completed":8,"failed":1/); // JSON progress from the queue
      expect(p.out()).toMatch(/"clipsPerMinute":/);
    } finally {
      await events.close();
      await q.close();
      await stopAll([w1, w2, p]);
      await redis.dispose();
    }
  }, 180_000);

  it('Redis killed and restarted mid-run (append-only file): workers and sink reconnect, one line per clip', async () => {
    const redis = await RedisServer.start({ appendonly: true });
    const dir = join(root, 'restart');
    const { input, ids } = writeInput(dir, 10);
    const out = join(dir, 'out.jsonl');
    const ws = [worker(redis.url(), 'restart'), worker(redis.url(), 'restart')];
    const p = producer(redis.url(), 'restart', input, out);
    try {
      await untilFileChanges(out, () => complete(out) >= 2, 'two lines');
      expect(complete(out)).toBeLessThan(ids.length);
      await redis.restart(1500); // SIGKILL, down 1.5 s, same port and data dir
      const r = await within(p.exit, 120_000);
      expect(r).toEqual({ code: 0, signal: null });
      const lines = expectOneLinePerClip(out, ids);
      expect(lines.every((l) => l.status !== 'error')).toBe(true);
      for (const w of ws) expect(w.child.exitCode).toBeNull(); // the workers survived the outage
    } finally {
      await stopAll([...ws, p]);
      await redis.dispose();
    }
  }, 200_000);

  it('the same input enqueued twice, a second sink refused, the sink killed and restarted: one line per clip', async () => {
    const redis = await RedisServer.start();
    const dir = join(root, 'twice');
    const { input, ids } = writeInput(dir, 8);
    const out = join(dir, 'out.jsonl');
    const p1 = producer(redis.url(), 'twice', input, out);
    const ws = [worker(redis.url(), 'twice'), worker(redis.url(), 'twice'), worker(redis.url(), 'twice')];
    try {
      await p1.waitOut(/enqueued|"queue"/, 'the first producer to enqueue');
      // the same input again, enqueue only: nothing added
      const again = producer(redis.url(), 'twice', input, '');
      expect((await again.exit).code).toBe(0);
      expect(again.out()).toMatch(/0 enqueued, 8 already in the queue/);
      // a second sink on the same queue is refused while the first runs
      const second = producer(redis.url(), 'twice', input, join(dir, 'other.jsonl'));
      expect((await second.exit).code).toBe(1);
      expect(second.out()).toMatch(/QUEUE_SINK_BUSY: another sink writes the results of queue "twice": pid \d+/);
      expect(existsSync(join(dir, 'other.jsonl'))).toBe(false);
      // kill -9 the sink mid-run, then start it again: it resumes from the file
      await untilFileChanges(out, () => complete(out) >= 2, 'two lines');
      p1.child.kill('SIGKILL');
      await p1.exit;
      const written = readLines(out).length;
      expect(written).toBeLessThan(ids.length + 1);
      const p2 = producer(redis.url(), 'twice', input, out);
      const r = await within(p2.exit, 90_000);
      expect(r).toEqual({ code: 0, signal: null });
      expect(p2.out()).toMatch(/0 enqueued, \d+ already in the queue, \d+ already in the output, of 8/);
      expectOneLinePerClip(out, ids);
      // and once more after the end: nothing to do, the file is unchanged
      const before = readFileSync(out, 'utf8');
      const p3 = producer(redis.url(), 'twice', input, out);
      expect((await p3.exit).code).toBe(0);
      expect(p3.out()).toMatch(/0 enqueued, 0 already in the queue, 8 already in the output, of 8/);
      expect(readFileSync(out, 'utf8')).toBe(before);
      const q = new Queue('twice', { connection: redisOptions(parseQueueUrl(redis.url())) });
      q.on('error', () => undefined);
      expect(await q.getJobCounts('completed', 'failed', 'waiting', 'active')).toEqual({ completed: 8, failed: 0, waiting: 0, active: 0 });
      expect((await q.getJob(jobIdFor('clip-3')))?.data).toMatchObject({ key: 'clip-3' });
      await q.close();
    } finally {
      await stopAll([p1, ...ws]);
      await redis.dispose();
    }
  }, 200_000);
});
