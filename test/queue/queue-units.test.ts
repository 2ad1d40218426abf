/** Pure parts of the queue: job ids, queue URLs, run signatures, progress, and CLI flag checks. */
import { main } from '../../src/cli/main';
import { formatQueueProgress, jobIdFor, makeManifest, manifestDifferences, parseQueueUrl, progressOf, RateWindow } from '../../src/detective/queue';
import { captureIo as io, OPTIONS } from './helpers';


describe('queue units', () => {
  it('job ids: the clip id itself when BullMQ allows it, escaped and injective otherwise', () => {
    expect(jobIdFor('sub/00.wav')).toBe('sub/00.wav');
    expect(jobIdFor('json:1')).toBe('json%3A1');
    expect(jobIdFor('12')).toBe('%2312');
    expect(jobIdFor('%2312')).toBe('%252312');
    expect(jobIdFor('a%3Ab')).toBe('a%253Ab');
    const keys = ['1', '%231', '#1', 'a:b', 'a%3Ab', 'a%b', '007', '7', 'json:7', 'json%3A7'];
    const ids = keys.map(jobIdFor);
    expect(new Set(ids).size).toBe(keys.length);
    for (const id of ids) {
      expect(id.includes(':')).toBe(false);
      expect(`${Number.parseInt(id, 10)}` === id).toBe(false);
    }
  });

  it('queue URLs: host, port, db, credentials, TLS; the password never shown', () => {
    expect(parseQueueUrl('redis://127.0.0.1:6380/3')).toMatchObject({ host: '127.0.0.1', port: 6380, db: 3, tls: false, display: 'redis://127.0.0.1:6380/3' });
    const auth = parseQueueUrl('rediss://user:s%40cret@redis.example:6379/0');
    expect(auth).toMatchObject({ username: 'user', password: 's@cret', tls: true, port: 6379 });
    expect(auth.display).toBe('rediss://user@redis.example:6379/0');
    expect(parseQueueUrl('redis://localhost')).toMatchObject({ port: 6379, db: 0 });
    expect(() => parseQueueUrl('redis://h:1/0?x=1')).toThrow(/no query/);
    expect(() => parseQueueUrl('redis://h:1/a')).toThrow(/database number/);
  });

  it('the signature covers input, prompts, models and options, not the endpoint URL or the retry policy', () => {
    const base = { input: { path: '/a.jsonl', digest: 'd1', clips: 2 }, prompts: [{ name: 'agent', version: 'v2', sha256: 'p1' }], llm: { kind: 'openai' as const, url: 'http://a/v1', model: 'm' }, observers: { names: ['signal'] }, options: OPTIONS, policy: { attempts: 3, backoffMs: 1, jobTimeoutMs: 0 } };
    const a = makeManifest(base);
    expect(makeManifest({ ...base, llm: { ...base.llm, url: 'http://b/v1' }, policy: { attempts: 9, backoffMs: 2, jobTimeoutMs: 5 } }).signature).toBe(a.signature);
    expect(manifestDifferences(a, makeManifest({ ...base, input: { ...base.input, digest: 'd2' } }))).toEqual(['input']);
    expect(manifestDifferences(a, makeManifest({ ...base, prompts: [{ name: 'agent', version: 'v2', sha256: 'p2' }] }))).toEqual(['prompts']);
    expect(manifestDifferences(a, makeManifest({ ...base, llm: { ...base.llm, model: 'other' } }))).toEqual(['models']);
    expect(manifestDifferences(a, makeManifest({ ...base, observers: { names: ['signal', 'vad'] } }))).toEqual(['models']);
    expect(manifestDifferences(a, makeManifest({ ...base, options: { ...OPTIONS, seed: 1 } }))).toEqual(['options']);
  });

  it('progress: clips/min over the window, ETA from what is left, one readable line', () => {
    const w = new RateWindow(60_000);
    w.add(0, 0);
    w.add(30_000, 5);
    w.add(60_000, 10);
    expect(w.perMinute()).toBe(10);
    const p = progressOf('q', 40, { waiting: 25, active: 4, delayed: 1, completed: 9, failed: 1 }, w.perMinute(), 61, 10);
    expect(p).toMatchObject({ etaSeconds: 180, clipsPerMinute: 10, written: 10 });
    expect(formatQueueProgress(p)).toBe('queue q: 9 done, 1 failed, 4 active, 25 waiting, 1 retrying, 10/40 written, 10.0 clips/min, elapsed 1m01s, ETA 3m00s');
    expect(progressOf('q', 1, { waiting: 1, active: 0, delayed: 0, completed: 0, failed: 0 }, 0, 1).etaSeconds).toBeNull();
  });

  it('CLI: queue flags are checked before anything connects', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['detect', '--queue', 'redis://127.0.0.1:1/0', '--input', 'x.jsonl'], /--output is required \(or --enqueue-only/],
      [['detect', '--queue', 'redis://127.0.0.1:1/0', '--input', 'x', '--output', 'o', '--workers', '2'], /--workers is a worker setting in queue mode/],
      [['detect', '--queue', 'ftp://h/0', '--input', 'x', '--output', 'o'], /redis:\/\/ or rediss:\/\//],
      [['detect', '--input', 'x', '--output', 'o', '--attempts', '2'], /--attempts needs --queue/],
      [['detect', '--input', 'x', '--output', 'o', '--observers', 'signal,nose'], /--observers: "nose" not available/],
      [['worker'], /--queue is required/],
      [['queue', 'status'], /--queue is required/],
      [['queue', 'cancel', '--queue', 'redis://127.0.0.1:1/0'], /--id CLIP_ID \(repeatable\) or --all/],
      [['export', '--input', 'a'], /--input, --output and --format are required/],
    ];
    for (const [argv, re] of cases) {
      const o = io();
      expect(await main(argv, o)).toBe(2);
      expect(o.err()).toMatch(re);
    }
    const h = io();
    expect(await main(['worker', '--help'], h)).toBe(0);
    expect(h.out()).toMatch(/--concurrency N/);
  });
});
