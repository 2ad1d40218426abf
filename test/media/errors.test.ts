import { readdirSync, readFileSync, watch, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OmnicapError } from '../../src/errors';
import { decodeAudio, probeMedia, resolveBinary, type DecodeOptions, type MediaInput } from '../../src/media';
import { clip, decodeError, tempDir } from './helpers';
import { guarded } from '../wait';

/** The ffmpeg processes this test process has as children now (Linux /proc). */
function ffmpegChildren(): string[] {
  const pids = readdirSync('/proc/self/task').flatMap((t) => readFileSync(`/proc/self/task/${t}/children`, 'utf8').split(/\s+/).filter(Boolean));
  return pids.filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('ffmpeg');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false; // exited since the listing
      throw e;
    }
  });
}

/** A real WAV's bytes with the sample-rate field (and byte rate) overwritten. */
function withSampleRate(bytes: Buffer, rate: number): Buffer {
  const b = Buffer.from(bytes);
  expect(b.toString('latin1', 12, 16)).toBe('fmt ');
  b.writeUInt32LE(rate, 24);
  b.writeUInt32LE(Math.min(0xffffffff, rate * b.readUInt16LE(32)), 28);
  return b;
}

const tmp = tempDir('omnicap-test-media-errors-');
afterAll(() => tmp.cleanup());

describe('decodeAudio input errors', () => {
  test('missing file -> MEDIA_NOT_FOUND; a directory too', async () => {
    const missing = join(tmp.dir, 'nope.wav');
    const e = await decodeError(missing);
    expect(e.code).toBe('MEDIA_NOT_FOUND');
    expect(e.status).toBe(404);
    expect(e.message).toContain('nope.wav');
    expect((await decodeError(tmp.dir)).code).toBe('MEDIA_NOT_FOUND');
  });

  test('empty file and empty buffer -> MEDIA_EMPTY', async () => {
    const empty = join(tmp.dir, 'empty.mp3');
    writeFileSync(empty, Buffer.alloc(0));
    expect((await decodeError(empty)).code).toBe('MEDIA_EMPTY');
    expect((await decodeError(Buffer.alloc(0))).code).toBe('MEDIA_EMPTY');
  });

  test('wrong input types -> INVALID_ARGUMENT', async () => {
    expect((await decodeError('')).code).toBe('INVALID_ARGUMENT');
    expect((await decodeError(42 as unknown as string)).code).toBe('INVALID_ARGUMENT');
    expect((await decodeError(clip('librivox-0880').path, { maxBytes: -1 })).code).toBe('INVALID_ARGUMENT');
    expect((await decodeError(clip('librivox-0880').path, { maxDurationSeconds: 0 })).code).toBe('INVALID_ARGUMENT');
  });

  test('over maxBytes -> MEDIA_TOO_LARGE (path and buffer), before reading', async () => {
    const c = clip('librivox-0870');
    const e = await decodeError(c.path, { maxBytes: 100000 });
    expect(e.code).toBe('MEDIA_TOO_LARGE');
    expect(e.status).toBe(413);
    expect(e.message).toBe(`Expected ${JSON.stringify(c.path)} to be at most 100000 bytes but it is 227244 bytes`);
    expect((await decodeError(readFileSync(c.path), { maxBytes: 1000 })).code).toBe('MEDIA_TOO_LARGE');
  });

  test('over maxDurationSeconds -> MEDIA_TOO_LONG on the WAV path and the ffmpeg path', async () => {
    const long = clip('speech-long').path;
    const wav = await decodeError(long, { maxDurationSeconds: 30 });
    expect(wav.code).toBe('MEDIA_TOO_LONG');
    expect(wav.details).toMatchObject({ maxDurationSeconds: 30 });
    expect(wav.message).toContain('34.38 s');
    const ff = await decodeError(long, { maxDurationSeconds: 30, wavFastPath: false });
    expect(ff.code).toBe('MEDIA_TOO_LONG');
    expect(ff.message).toMatch(/more than 3\d\.\d\d s/);
    expect((await decodeError(clip('speech-0870-mp3').path, { maxDurationSeconds: 2 })).code).toBe('MEDIA_TOO_LONG');
    const ok = await decodeAudio(long, { maxDurationSeconds: 35 });
    expect(ok.durationSeconds).toBeGreaterThan(34);
  });

  test('video without audio -> MEDIA_NO_AUDIO with the ffmpeg stderr tail in details', async () => {
    const e = await decodeError(clip('video-noaudio-mp4').path);
    expect(e.code).toBe('MEDIA_NO_AUDIO');
    expect(e.message).toContain('audio stream');
    expect(String(e.details?.stderr)).toContain('matches no streams');
  });

  test('random bytes and a text file -> MEDIA_UNSUPPORTED', async () => {
    let x = 12345;
    const random = Buffer.alloc(4096, 0).map(() => ((x = (x * 1103515245 + 12345) >>> 0), x >>> 24));
    const e = await decodeError(random);
    expect(e.code).toBe('MEDIA_UNSUPPORTED');
    expect(e.status).toBe(415);
    expect(String(e.details?.stderr)).toContain('Invalid data found when processing input');
    const text = '/usr/share/pocketsphinx/test/data/cards/cards.gram';
    expect((await decodeError(text)).code).toBe('MEDIA_UNSUPPORTED');
  });

  test('an mp4 cut before its index (moov) -> MEDIA_CORRUPT', async () => {
    const bytes = readFileSync(clip('video-av-mp4').path);
    // faststart puts moov first; keep only the tail so the index is gone but the media data remains
    const e = await decodeError(bytes.subarray(bytes.length - 30000));
    expect(['MEDIA_CORRUPT', 'MEDIA_UNSUPPORTED']).toContain(e.code);
    const headless = Buffer.concat([bytes.subarray(0, 8), bytes.subarray(bytes.length - 30000)]);
    expect((await decodeError(headless)).code).toBe('MEDIA_CORRUPT');
  });

  test('ffmpeg binary missing -> FFMPEG_NOT_FOUND (option and FFMPEG_PATH env)', async () => {
    const e = await decodeError(clip('speech-0870-mp3').path, { ffmpegPath: join(tmp.dir, 'no-ffmpeg') });
    expect(e.code).toBe('FFMPEG_NOT_FOUND');
    expect(e.message).toContain('no-ffmpeg');
    const notExec = join(tmp.dir, 'not-executable');
    writeFileSync(notExec, '#!/bin/sh\n');
    expect((await decodeError(clip('speech-0870-mp3').path, { ffmpegPath: notExec })).code).toBe('FFMPEG_NOT_FOUND');
    expect(() => resolveBinary('ffmpeg', {}, { FFMPEG_PATH: '/nonexistent/ffmpeg' })).toThrow(expect.objectContaining({ code: 'FFMPEG_NOT_FOUND' }));
    expect(() => resolveBinary('ffprobe', {}, { FFPROBE_PATH: '/nonexistent/ffprobe' })).toThrow(/FFPROBE_PATH|\/nonexistent\/ffprobe/);
    expect(resolveBinary('ffmpeg', {}, {})).toMatch(/ffmpeg$/);
    await expect(probeMedia(clip('speech-0870-mp3').path, { ffprobePath: '/nonexistent/ffprobe' })).rejects.toMatchObject({ code: 'FFMPEG_NOT_FOUND' });
  });

  test('the WAV fast path does not need ffmpeg at all', async () => {
    const got = await decodeAudio(clip('speech-0870-48k-stereo').path, { ffmpegPath: join(tmp.dir, 'no-ffmpeg') });
    expect(got.decoder).toBe('wav');
  });

  test('abort: before start, and mid-decode kills ffmpeg', async () => {
    const before = new AbortController();
    before.abort();
    expect((await decodeError(clip('speech-0870-mp3').path, { signal: before.signal })).code).toBe('ABORTED');
    // aborted when the decode hands its input to ffmpeg (its temp file appears); no ffmpeg is left after the rejection
    const own = tempDir('omnicap-test-abort-');
    const watcher = watch(own.dir);
    try {
      const mid = new AbortController();
      watcher.once('change', () => mid.abort());
      const e = await guarded(decodeError(readFileSync(clip('speech-long').path), { signal: mid.signal, wavFastPath: false, tempDir: own.dir }), 'the aborted decode');
      expect(e.code).toBe('ABORTED');
      expect(ffmpegChildren()).toEqual([]);
    } finally {
      watcher.close();
      own.cleanup();
    }
    const t = await decodeError(clip('speech-long').path, { signal: AbortSignal.timeout(1), wavFastPath: false });
    expect(['TIMEOUT', 'ABORTED']).toContain(t.code);
  });

  test('buffers sent to ffmpeg leave no temporary files behind, also on failure and abort', async () => {
    const own = tempDir('omnicap-test-tmpdir-');
    try {
      const opts = { tempDir: own.dir };
      const temps = new Set<string>();
      const watcher = watch(own.dir);
      watcher.on('change', (_type, name) => temps.add(String(name))); // each temp directory made (and removed) is an event
      try {
        await decodeAudio(readFileSync(clip('speech-0870-ogg').path), opts);
        await decodeError(Buffer.from('definitely not media, just some text bytes'), opts);
        const ac = new AbortController();
        const earlier = new Set(temps);
        // abort while this decode's temp input exists (a late event of an earlier temp directory is not it)
        watcher.on('change', (_type, name) => void (earlier.has(String(name)) || ac.abort()));
        expect((await decodeError(readFileSync(clip('speech-long').path), { ...opts, signal: ac.signal, wavFastPath: false })).code).toBe('ABORTED');
        await probeMedia(readFileSync(clip('lena-mp3').path), opts);
      } finally {
        watcher.close();
      }
      expect(temps.size).toBeGreaterThanOrEqual(3); // a temp input for each buffer decode (probeMedia's too)
      expect(readdirSync(own.dir)).toEqual([]);
    } finally {
      own.cleanup();
    }
  });
});

describe('WAV header errors (real WAVs, edited)', () => {
  const wav = (): Buffer => readFileSync(clip('librivox-0880').path);

  test.each([0, 1, 999, 10_000_000, 0xffffffff])('sample rate %d Hz -> MEDIA_BAD_SAMPLE_RATE', async (rate) => {
    const e = await decodeError(withSampleRate(wav(), rate));
    expect(e.code).toBe('MEDIA_BAD_SAMPLE_RATE');
    expect(e.message).toBe(`Expected a sample rate between 1000 and 768000 Hz in WAV a 95724-byte buffer but the header says ${rate} Hz`);
    await expect(probeMedia(withSampleRate(wav(), rate))).rejects.toMatchObject({ code: 'MEDIA_BAD_SAMPLE_RATE' });
  });

  test('unusual but valid sample rates decode (8 kHz header on 16 kHz data plays at half speed)', async () => {
    const got = await decodeAudio(withSampleRate(wav(), 8000));
    expect(got.durationSeconds).toBeCloseTo(2 * 2.99, 2);
    const odd = await decodeAudio(withSampleRate(wav(), 15999));
    expect(odd.resampler).toBe('ffmpeg');
    expect(odd.durationSeconds).toBeCloseTo(2.99 * (16000 / 15999), 2);
  });

  test.each([4, 11, 20, 36, 43])('truncated mid-header at %d bytes -> MEDIA_CORRUPT', async (cut) => {
    const e = await decodeError(wav().subarray(0, cut));
    expect(e.code).toBe('MEDIA_CORRUPT');
    expect(e.message).toMatch(/^Expected .+ in WAV .+ but /);
  });

  test('truncated mid-data: decodes complete frames with a warning, or MEDIA_CORRUPT when asked', async () => {
    const full = wav();
    const cut = full.subarray(0, 44 + 16001 * 2 + 1); // 16001 frames and half a sample
    const got = await decodeAudio(cut);
    expect(got.samples.length).toBe(16001);
    expect(got.warnings).toEqual([expect.objectContaining({ code: 'wav-truncated', declaredBytes: full.length - 44, availableBytes: 16001 * 2 + 1 })]);
    const ref = await decodeAudio(full);
    expect(Array.from(got.samples)).toEqual(Array.from(ref.samples.subarray(0, 16001)));
    const e = await decodeError(cut, { onTruncated: 'error' });
    expect(e.code).toBe('MEDIA_CORRUPT');
    expect(e.details).toMatchObject({ declaredBytes: full.length - 44, availableBytes: 16001 * 2 + 1 });
  });

  test('zero-length audio: header only, and a data chunk with less than one frame -> MEDIA_ZERO_LENGTH', async () => {
    const header = Buffer.from(wav().subarray(0, 44));
    header.writeUInt32LE(0, 40);
    header.writeUInt32LE(36, 4);
    const e = await decodeError(header);
    expect(e.code).toBe('MEDIA_ZERO_LENGTH');
    const oneByte = Buffer.concat([header, Buffer.from([7])]);
    oneByte.writeUInt32LE(1, 40);
    expect((await decodeError(oneByte)).code).toBe('MEDIA_ZERO_LENGTH');
    // the same through ffmpeg: zero samples out
    const path = join(tmp.dir, 'zero.wav');
    writeFileSync(path, header);
    expect((await decodeError(path, { wavFastPath: false })).code).toBe('MEDIA_ZERO_LENGTH');
  });

  test('zero channels -> MEDIA_CORRUPT; a data chunk before fmt -> MEDIA_CORRUPT', async () => {
    const b = Buffer.from(wav());
    b.writeUInt16LE(0, 22);
    expect((await decodeError(b)).code).toBe('MEDIA_CORRUPT');
    const w = wav();
    const swapped = Buffer.concat([w.subarray(0, 12), w.subarray(36), w.subarray(12, 36)]);
    expect((await decodeError(swapped)).code).toBe('MEDIA_CORRUPT');
  });

  test('a streaming WAV (data size 0xFFFFFFFF) decodes to the end', async () => {
    const b = Buffer.from(wav());
    b.writeUInt32LE(0xffffffff, 40);
    const got = await decodeAudio(b);
    expect(got.samples.length).toBe((b.length - 44) / 2);
    expect(got.warnings).toEqual([]);
  });
});
