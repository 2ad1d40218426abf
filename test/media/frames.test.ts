import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { extractFrames, frameToTensor, scanFrames, targetSize, type VideoFrame } from '../../src/media';
import { clip } from './helpers';

type RawFrame = Extract<VideoFrame, { format: 'raw' }>;

/** Mean R, G, B over the left-middle region (away from the logo and the text). */
function meanRgb(f: RawFrame): [number, number, number] {
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = Math.floor(f.height * 0.3); y < Math.floor(f.height * 0.6); y++) {
    for (let x = 0; x < Math.floor(f.width * 0.5); x++) {
      for (let c = 0; c < 3; c++) sum[c] += f.data[(y * f.width + x) * 3 + c];
      n++;
    }
  }
  return [sum[0] / n, sum[1] / n, sum[2] / n];
}

function dominant(f: RawFrame): 'red' | 'green' | 'blue' {
  const [r, g, b] = meanRgb(f);
  return r > g && r > b ? 'red' : g > b ? 'green' : 'blue';
}

const raw = (frames: VideoFrame[]): RawFrame[] => frames.map((f) => {
  if (f.format !== 'raw') throw new Error('expected raw frames');
  return f;
});

describe('extractFrames on a real test video (red/green/blue 2 s segments, logo, text)', () => {
  test('2 fps raw frames at the source size follow the colour segments', async () => {
    const set = await extractFrames(clip('video-av-mp4').path, { fps: 2, format: 'raw' });
    expect(set).toMatchObject({ fps: 2, sourceWidth: 320, sourceHeight: 240 });
    expect(set.frames).toHaveLength(12);
    const frames = raw(set.frames);
    expect(frames.map((f) => f.index)).toEqual([...Array(12).keys()]);
    expect(frames.map((f) => f.timeSeconds)).toEqual([...Array(12).keys()].map((i) => i / 2));
    for (const f of frames) {
      expect([f.width, f.height, f.channels, f.data.length]).toEqual([320, 240, 3, 320 * 240 * 3]);
    }
    // frames at t = 0.5, 1.5 | 2.5, 3.5 | 4.5, 5.5 are well inside each segment
    expect([1, 3, 5, 7, 9, 11].map((i) => dominant(frames[i]))).toEqual(['red', 'red', 'green', 'green', 'blue', 'blue']);
    const [r, g, b] = meanRgb(frames[1]);
    expect(r).toBeGreaterThan(200);
    expect(g + b).toBeLessThan(60);
  });

  test('width only keeps the aspect ratio; both with fit; maxFrames; the video without audio', async () => {
    const half = await extractFrames(clip('video-noaudio-mp4').path, { fps: 1, width: 160, format: 'raw', maxFrames: 3 });
    expect(half.frames).toHaveLength(3);
    expect(raw(half.frames).map((f) => [f.width, f.height, f.data.length])).toEqual([[160, 120, 57600], [160, 120, 57600], [160, 120, 57600]]);
    const square = await extractFrames(clip('video-av-mkv').path, { fps: 0.5, width: 64, height: 64, fit: 'contain', format: 'raw' });
    expect(square.frames).toHaveLength(3);
    const f = raw(square.frames)[0];
    expect([f.width, f.height]).toEqual([64, 64]);
    // 'contain' letterboxes 4:3 into a square: the top rows are black, the middle is red
    expect(Array.from(f.data.subarray(0, 3))).toEqual([0, 0, 0]);
    expect(dominant(f)).toBe('red');
  });

  test('png frames decode with sharp and carry the on-screen text region', async () => {
    const set = await extractFrames(readFileSync(clip('video-av-mp4').path), { fps: 1, format: 'png', maxFrames: 2, width: 240 });
    expect(set.frames).toHaveLength(2);
    const f = set.frames[0];
    expect(f.format).toBe('png');
    expect(f.data.subarray(1, 4).toString('latin1')).toBe('PNG');
    const meta = await sharp(f.data).metadata();
    expect([meta.width, meta.height, meta.format]).toEqual([240, 180, 'png']);
    // the white "OMNICAP" text sits in the lower band (y ~ 170..210 of 240): many near-white pixels there
    const { data, info } = await sharp(f.data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    let white = 0;
    for (let y = Math.floor(info.height * 0.7); y < Math.floor(info.height * 0.88); y++) {
      for (let x = 0; x < info.width; x++) {
        const p = (y * info.width + x) * 3;
        if (data[p] > 220 && data[p + 1] > 220 && data[p + 2] > 220) white++;
      }
    }
    expect(white).toBeGreaterThan(300);
  });

  test('startSeconds: each frame is the one on screen at its time (segments change at 2.0 and 4.0 s)', async () => {
    const at = async (startSeconds: number, fps = 1, maxFrames = 1): Promise<Array<[number, string]>> =>
      raw((await extractFrames(clip('video-noaudio-mp4').path, { fps, format: 'raw', width: 32, maxFrames, startSeconds })).frames).map((f) => [Number(f.timeSeconds.toFixed(2)), dominant(f)]);
    expect(await at(1.98)).toEqual([[1.98, 'red']]);
    expect(await at(2.0)).toEqual([[2, 'green']]);
    expect(await at(3.99)).toEqual([[3.99, 'green']]);
    expect(await at(1.5, 2, 3)).toEqual([[1.5, 'red'], [2, 'green'], [2.5, 'green']]);
    // without a start: frame k at k / fps is the one shown then, not one up to half a step later
    // (rounding to the nearest tick, ffmpeg's default, gives red, green, blue at 0, 1.8 and 3.6 s)
    expect(await at(0, 1 / 1.8, 4)).toEqual([[0, 'red'], [1.8, 'red'], [3.6, 'green'], [5.4, 'blue']]);
    await expect(at(-1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'startSeconds' } });
  });

  test('errors: audio-only input, bad options, missing file, abort', async () => {
    await expect(extractFrames(clip('librivox-0870').path, { fps: 1, format: 'raw' })).rejects.toMatchObject({ code: 'MEDIA_NO_VIDEO' });
    await expect(extractFrames(clip('lena-mp3').path, { fps: 1, format: 'raw' })).rejects.toMatchObject({ code: 'MEDIA_NO_VIDEO' });
    await expect(extractFrames(clip('video-av-mp4').path, { fps: 0, format: 'raw' })).rejects.toThrow('Expected a number of frames per second in (0, 60] for fps but received number 0');
    await expect(extractFrames(clip('video-av-mp4').path, { fps: 1, format: 'jpeg' as 'raw' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'format' } });
    await expect(extractFrames(clip('video-av-mp4').path, { fps: 1, format: 'raw', width: 0 })).rejects.toMatchObject({ details: { parameter: 'width' } });
    await expect(extractFrames(clip('video-av-mp4').path, { fps: 1, format: 'raw', maxFrames: 1.5 })).rejects.toMatchObject({ details: { parameter: 'maxFrames' } });
    await expect(extractFrames(clip('video-av-mp4').path, { fps: 1, format: 'raw', maxDurationSeconds: 5 })).rejects.toMatchObject({ code: 'MEDIA_TOO_LONG' });
    await expect(extractFrames('/nonexistent.mp4', { fps: 1, format: 'raw' })).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
    const ac = new AbortController();
    ac.abort();
    await expect(extractFrames(clip('video-av-mp4').path, { fps: 1, format: 'raw', signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
  });
});

describe('scanFrames (every frame scaled by ffmpeg, handed over one at a time)', () => {
  test('25 fps at 40 px wide: every frame, in order, each colour segment in its frames; maxFrames stops early', async () => {
    const seen: Array<{ index: number; time: number; colour: string; bytes: number }> = [];
    const scan = await scanFrames(clip('video-noaudio-mp4').path, { fps: 25, width: 40, threads: 1 }, (f) => {
      const [r, g, b] = meanRgb({ ...f, format: 'raw', channels: 3 });
      seen.push({ index: f.index, time: f.timeSeconds, colour: r > g && r > b ? 'red' : g > b ? 'green' : 'blue', bytes: f.data.byteLength });
    });
    expect(scan).toMatchObject({ fps: 25, width: 40, height: 30, sourceWidth: 320, sourceHeight: 240, frames: 150 });
    expect(scan.probe.durationSeconds).toBeCloseTo(6, 1);
    expect(seen.map((s) => s.index)).toEqual([...Array(150).keys()]);
    expect(seen[50].time).toBeCloseTo(2, 6);
    expect(seen.every((s) => s.bytes === 40 * 30 * 3)).toBe(true);
    // segments change exactly at frames 50 and 100 (2 s and 4 s)
    expect([seen[0], seen[49], seen[50], seen[99], seen[100], seen[149]].map((s) => s.colour)).toEqual(['red', 'red', 'green', 'green', 'blue', 'blue']);
    let n = 0;
    const few = await scanFrames(clip('video-av-mkv').path, { fps: 2, height: 24, maxFrames: 5 }, () => void n++);
    expect([few.frames, n, few.width, few.height]).toEqual([5, 5, 32, 24]);
  });

  test('errors: audio only, no size, a throwing callback stops the scan', async () => {
    await expect(scanFrames(clip('librivox-0870').path, { fps: 1, width: 32 }, () => undefined)).rejects.toMatchObject({ code: 'MEDIA_NO_VIDEO' });
    await expect(scanFrames(clip('video-av-mp4').path, { fps: 1 }, () => undefined)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'width' } });
    await expect(scanFrames(clip('video-av-mp4').path, { fps: 1, width: 32, threads: 0 }, () => undefined)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'threads' } });
    let calls = 0;
    await expect(
      scanFrames(clip('video-av-mp4').path, { fps: 25, width: 32 }, () => {
        if (++calls === 3) throw new Error('enough');
      }),
    ).rejects.toThrow('enough');
    expect(calls).toBe(3);
  });
});

describe('frameToTensor', () => {
  test('CHW float32 with mean/std on a real frame', async () => {
    const set = await extractFrames(clip('video-av-mp4').path, { fps: 1, format: 'raw', width: 32, height: 24, maxFrames: 1 });
    const f = raw(set.frames)[0];
    const t = frameToTensor(f, { mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    expect(t.dims).toEqual([3, 24, 32]);
    expect(t.data.length).toBe(3 * 24 * 32);
    const plane = 24 * 32;
    for (const p of [0, 100, 500]) {
      for (let c = 0; c < 3; c++) expect(t.data[c * plane + p]).toBeCloseTo((f.data[p * 3 + c] / 255 - 0.5) / 0.5, 5);
    }
    const imagenet = frameToTensor(f);
    expect(imagenet.data[0]).toBeCloseTo((f.data[0] / 255 - 0.485) / 0.229, 5);
    const unit = frameToTensor(f, { mean: [0, 0, 0], std: [1, 1, 1] });
    expect(Math.max(...unit.data)).toBeLessThanOrEqual(1);
    expect(Math.min(...unit.data)).toBeGreaterThanOrEqual(0);
  });

  test('validation', () => {
    const data = new Uint8Array(2 * 2 * 3);
    expect(() => frameToTensor({ data, width: 2, height: 3 })).toThrow('Expected 18 RGB bytes for frame.data but received Uint8Array of length 12');
    expect(() => frameToTensor({ data, width: 2, height: 2 }, { std: [1, 0, 1] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => frameToTensor({ data: Buffer.alloc(10), width: 2, height: 2, format: 'png' })).toThrow(/decode PNG frames first/);
    expect(targetSize(320, 240, undefined, 120)).toEqual({ width: 160, height: 120 });
    expect(targetSize(320, 240)).toEqual({ width: 320, height: 240 });
  });
});
