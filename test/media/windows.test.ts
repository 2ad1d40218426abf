import { decodeAudio, splitWindows } from '../../src/media';
import { clip } from './helpers';

describe('splitWindows', () => {
  test('a 34.38 s real clip: 30 s + tail, contiguous, views into the samples', async () => {
    const audio = await decodeAudio(clip('speech-long').path);
    const n = audio.samples.length;
    const w = splitWindows(audio.samples);
    expect(w.map((x) => [x.startSample, x.endSample])).toEqual([[0, 480000], [480000, n]]);
    expect(w[1].endSeconds).toBeCloseTo(n / 16000, 6);
    expect(w[0].samples.buffer).toBe(audio.samples.buffer);
    expect(w[1].samples[0]).toBe(audio.samples[480000]);
  });

  test('overlap: starts advance by window - overlap and the last window ends at the end', async () => {
    const audio = await decodeAudio(clip('speech-long').path);
    const n = audio.samples.length;
    const w = splitWindows(audio.samples, { windowSeconds: 10, overlapSeconds: 2 });
    expect(w.map((x) => x.startSeconds)).toEqual([0, 8, 16, 24, 32]);
    expect(w.map((x) => x.index)).toEqual([0, 1, 2, 3, 4]);
    for (const x of w) expect(x.endSample - x.startSample).toBeLessThanOrEqual(160000);
    expect(w[w.length - 1].endSample).toBe(n);
    for (let i = 1; i < w.length; i++) expect(w[i - 1].endSample - w[i].startSample).toBe(32000);
  });

  test('short clips give one window; empty input gives none', async () => {
    const audio = await decodeAudio(clip('cards-001').path);
    const w = splitWindows(audio.samples);
    expect(w).toHaveLength(1);
    expect(w[0]).toMatchObject({ startSample: 0, endSample: audio.samples.length, startSeconds: 0 });
    expect(splitWindows(new Float32Array(0))).toEqual([]);
  });

  test('minLastWindowSeconds moves a short tail back to a full window', async () => {
    const audio = await decodeAudio(clip('speech-long').path);
    const n = audio.samples.length;
    const w = splitWindows(audio.samples, { minLastWindowSeconds: 10 });
    expect(w.map((x) => [x.startSample, x.endSample])).toEqual([[0, 480000], [n - 480000, n]]);
  });

  test('other sample rates and long windows when allowed', () => {
    const s = new Float32Array(8000 * 70);
    expect(splitWindows(s, { sampleRate: 8000 }).map((x) => x.endSeconds)).toEqual([30, 60, 70]);
    expect(splitWindows(s, { sampleRate: 8000, windowSeconds: 60, allowLongWindows: true }).map((x) => x.endSeconds)).toEqual([60, 70]);
  });

  test.each([
    [{ windowSeconds: 31 }, 'windowSeconds', 'Expected a number of seconds in (0, 30] (set allowLongWindows for longer) for windowSeconds but received number 31'],
    [{ windowSeconds: 0 }, 'windowSeconds', undefined],
    [{ windowSeconds: Number.NaN }, 'windowSeconds', undefined],
    [{ overlapSeconds: 30 }, 'overlapSeconds', 'Expected a number of seconds in [0, windowSeconds=30) for overlapSeconds but received number 30'],
    [{ overlapSeconds: -1 }, 'overlapSeconds', undefined],
    [{ windowSeconds: 5, overlapSeconds: 6 }, 'overlapSeconds', undefined],
    [{ sampleRate: 0 }, 'sampleRate', undefined],
    [{ sampleRate: 16000.5 }, 'sampleRate', undefined],
    [{ windowSeconds: 1e-6 }, 'windowSeconds', undefined],
    [{ windowSeconds: 1, overlapSeconds: 0.99999 }, 'overlapSeconds', undefined],
    [{ minLastWindowSeconds: 40 }, 'minLastWindowSeconds', undefined],
  ])('rejects %j (%s)', (opts, parameter, message) => {
    let err: unknown;
    try {
      splitWindows(new Float32Array(16000), opts);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter } });
    if (message !== undefined) expect((err as Error).message).toBe(message);
  });

  test('rejects non-Float32Array samples', () => {
    expect(() => splitWindows([0, 1] as unknown as Float32Array)).toThrow('Expected a Float32Array for samples but received array of length 2');
    expect(() => splitWindows(new Float64Array(4) as unknown as Float32Array)).toThrow(/Float32Array/);
  });
});
