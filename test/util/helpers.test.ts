import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { OmnicapError } from '../../src/errors';
import { isRecord } from '../../src/util/guards';
import { sha256, sha256File } from '../../src/util/hash';
import { escapeHtml } from '../../src/util/html';
import { percentile, percentileOfSorted, PERCENTILE_DEFINITION } from '../../src/util/percentile';
import { formatDuration, ProgressWriter } from '../../src/util/progress';

describe('percentile (type 7, linear interpolation between closest ranks)', () => {
  // sorted: 1 2 3 4 5 6 7 8 9 10 (given unsorted on purpose)
  const ten = [7, 1, 10, 3, 5, 2, 9, 4, 8, 6];
  it('matches hand-computed values', () => {
    // h = 9 * 0.5 = 4.5 -> x[4] + 0.5 (x[5] - x[4]) = 5 + 0.5 = 5.5
    expect(percentile(ten, 50)).toBeCloseTo(5.5, 12);
    // h = 9 * 0.95 = 8.55 -> 9 + 0.55 * 1 = 9.55
    expect(percentile(ten, 95)).toBeCloseTo(9.55, 12);
    // h = 9 * 0.99 = 8.91 -> 9.91
    expect(percentile(ten, 99)).toBeCloseTo(9.91, 12);
    // h = 9 * 0.25 = 2.25 -> 3.25
    expect(percentile(ten, 25)).toBeCloseTo(3.25, 12);
    expect(percentile(ten, 0)).toBe(1);
    expect(percentile(ten, 100)).toBe(10);
  });
  it('interpolates unequal gaps', () => {
    // sorted 10 20 40 80: p50 h = 1.5 -> 20 + 0.5*20 = 30; p90 h = 2.7 -> 40 + 0.7*40 = 68
    expect(percentile([80, 10, 40, 20], 50)).toBeCloseTo(30, 12);
    expect(percentile([80, 10, 40, 20], 90)).toBeCloseTo(68, 12);
  });
  it('single sample is every percentile; does not mutate input', () => {
    expect(percentile([42], 99)).toBe(42);
    const input = [3, 1, 2];
    percentile(input, 50);
    expect(input).toEqual([3, 1, 2]);
  });
  it('rejects empty sets, bad p and non-finite samples with typed errors', () => {
    expect(() => percentile([], 50)).toThrow(OmnicapError);
    expect(() => percentile([1], 101)).toThrow(/percentile in \[0, 100\]/);
    expect(() => percentile([1, Number.NaN], 50)).toThrow(OmnicapError);
  });
});

describe('percentileOfSorted', () => {
  it('reads sorted input in place (typed arrays too) and agrees with percentile', () => {
    const sorted = Float64Array.from([1, 2, 4, 8]);
    // h = 3 * 0.9 = 2.7 -> 4 + 0.7 * 4 = 6.8
    expect(percentileOfSorted(sorted, 90)).toBeCloseTo(6.8, 12);
    expect(percentile([8, 4, 2, 1], 90)).toBeCloseTo(6.8, 12);
    expect(() => percentileOfSorted([], 50)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => percentileOfSorted([1], -1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('p99 of 50 requests is not the slowest one (the nearest-rank definition would say 50)', () => {
    const latencies = Array.from({ length: 50 }, (_, i) => i + 1);
    // h = 49 * 0.99 = 48.51 -> 49 + 0.51 * 1 = 49.51
    expect(percentile(latencies, 99)).toBeCloseTo(49.51, 12);
    expect(PERCENTILE_DEFINITION).toMatch(/type 7/);
  });
});

describe('isRecord', () => {
  it('accepts plain objects and rejects null, arrays, typed arrays and primitives', () => {
    expect(isRecord({})).toBe(true);
    expect(isRecord(JSON.parse('{"a": 1}'))).toBe(true);
    expect(isRecord(Object.create(null))).toBe(true);
    for (const v of [null, undefined, [], [1], new Uint8Array(2), Buffer.from('x'), new DataView(new ArrayBuffer(1)), 'x', 1, true]) expect(isRecord(v)).toBe(false);
  });
});

describe('sha256', () => {
  it('hashes strings as UTF-8 and bytes, files by content', async () => {
    // FIPS 180-2 test vector
    expect(sha256('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256(new Uint8Array([0x61, 0x62, 0x63]))).toBe(sha256('abc'));
    expect(sha256('é')).toBe(sha256(Buffer.from('é', 'utf8')));
    const dir = mkdtempSync(join(tmpdir(), 'omnicap-hash-'));
    try {
      const file = join(dir, 'f.txt');
      writeFileSync(file, 'abc');
      expect(await sha256File(file)).toBe(sha256('abc'));
      const aborted = AbortSignal.abort();
      await expect(sha256File(file, aborted)).rejects.toMatchObject({ code: 'ABORTED' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters that matter in content and quoted attributes', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(escapeHtml('plain text 1 < 2')).toBe('plain text 1 &lt; 2');
  });
});

describe('ProgressWriter', () => {
  const collect = (): { stream: PassThrough; text: () => string } => {
    const stream = new PassThrough();
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    return { stream, text: () => text };
  };

  it('json mode: one state object per line, throttled, and always the last one', () => {
    const out = collect();
    let now = 0;
    const w = new ProgressWriter<{ n: number }>(out.stream, (s) => `n=${s.n}`, { mode: 'json', tty: true, intervalMs: 1000, now: () => now });
    for (let i = 0; i <= 25; i++, now += 100) w.update({ n: i }); // 0 .. 2.5 s: lines at 0, 1 s, 2 s
    w.end({ n: 99 });
    expect(out.text().trim().split('\n').map((l) => JSON.parse(l) as unknown)).toEqual([{ n: 0 }, { n: 10 }, { n: 20 }, { n: 99 }]);
  });

  it('text mode redraws on a terminal; none writes nothing', () => {
    const out = collect();
    const w = new ProgressWriter<number>(out.stream, (s, now) => `${s} at ${now}`, { tty: true, prefix: 'x: ', now: () => 5 });
    w.update(1);
    w.end(2);
    expect(out.text()).toBe('\r\x1b[2K1 at 5\r\x1b[2K2 at 5\n');
    const silent = collect();
    const n = new ProgressWriter<number>(silent.stream, String, { mode: 'none' });
    n.update(1);
    n.end(1);
    expect(silent.text()).toBe('');
  });

  it('formats durations', () => {
    expect(formatDuration(42.4)).toBe('42s');
    expect(formatDuration(187)).toBe('3m07s');
    expect(formatDuration(null)).toBe('--');
    expect(formatDuration(Infinity)).toBe('--');
  });
});
