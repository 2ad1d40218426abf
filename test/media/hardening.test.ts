/**
 * Media faults found by probing the server's hardening, at the library level: one code per
 * failure whatever the input form, no ffmpeg stderr in messages, malformed WAV headers refused,
 * and an opened file read only through its descriptor.
 */
import { readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OmnicapError } from '../../src/errors';
import { decodeAudio, openMediaFile, probeMedia, type DecodeOptions, type MediaInput, type OpenedMedia } from '../../src/media';
import { ffmpegFailure } from '../../src/media/ffmpeg';
import { clip, corruptOgg, decodeError, sevenBitWav, tempDir } from './helpers';

const tmp = tempDir('omnicap-test-media-hardening-');
afterAll(() => tmp.cleanup());

test('a corrupt Ogg is MEDIA_CORRUPT as a path, a buffer, an opened file and in probeMedia; messages carry no stderr', async () => {
  const bytes = corruptOgg();
  const path = join(tmp.dir, 'bad.ogg');
  writeFileSync(path, bytes);
  const opened = await openMediaFile(path, '"bad.ogg"');
  try {
    const errors = [await decodeError(path), await decodeError(bytes), await decodeError(opened), await probeMedia(path).then(() => undefined, (e: OmnicapError) => e)];
    expect(errors.map((e) => e?.code)).toEqual(['MEDIA_CORRUPT', 'MEDIA_CORRUPT', 'MEDIA_CORRUPT', 'MEDIA_CORRUPT']);
    for (const e of errors) {
      // no heap address, no ffmpeg line, no temp copy's path (a path input is named as the caller gave it)
      expect(e?.message).not.toMatch(/0x[0-9a-f]{4,}|Header processing|omnicap-media-|input\.bin/);
      expect(String(e?.details?.stderr)).toContain('Header processing failed'); // the detail stays for logs
    }
    expect(errors[2]?.message).toContain('"bad.ogg"');
  } finally {
    await opened.handle.close();
  }
});

test('an mp4 without its header: the same code as a named path and as a buffer named like one', async () => {
  const whole = readFileSync(clip('video-av-mp4').path);
  const tail = whole.subarray(whole.length - 30000);
  const path = join(tmp.dir, 'cut.mp4');
  writeFileSync(path, tail);
  const byPath = await decodeError(path);
  const byBuffer = await decodeError(tail, { formatHint: 'cut.mp4' });
  expect([byPath.code, byBuffer.code]).toEqual(['MEDIA_CORRUPT', 'MEDIA_CORRUPT']);
  // without any name nothing says it is an mp4: unsupported bytes, as before
  expect((await decodeError(tail)).code).toBe('MEDIA_UNSUPPORTED');
});

test('ffmpeg exiting with a status on input it read is the media (MEDIA_CORRUPT), a killed ffmpeg is FFMPEG_FAILED', () => {
  const stderr = '[aac @ 0x55d0c0a0] Error while decoding stream #0:0: Invalid argument\n';
  const exited = ffmpegFailure({ ok: false, exitCode: 69, exitSignal: null, stdout: Buffer.alloc(0), stderr }, 'audio', 'the clip');
  expect(exited).toMatchObject({ code: 'MEDIA_CORRUPT', status: 422, details: { stderr: expect.stringContaining('0x55d0c0a0') } });
  expect(exited.message).not.toContain('0x55d0c0a0');
  const killed = ffmpegFailure({ ok: false, exitCode: null, exitSignal: 'SIGKILL', stdout: Buffer.alloc(0), stderr }, 'audio', 'the clip');
  expect(killed.code).toBe('FFMPEG_FAILED');
});

test('a WAV declaring 7-bit samples is MEDIA_CORRUPT (not handed to ffmpeg)', async () => {
  const e = await decodeError(sevenBitWav());
  expect(e.code).toBe('MEDIA_CORRUPT');
  expect(e.details).toMatchObject({ bitsPerSample: 7 });
  expect(e.message).toMatch(/8, 16, 24, 32 bits per PCM sample/);
});

test('openMediaFile refuses a symlink and the opened file is read through its descriptor after a rename', async () => {
  const a = join(tmp.dir, 'a.wav');
  writeFileSync(a, readFileSync(clip('alsa-front-center').path));
  const link = join(tmp.dir, 'link.wav');
  symlinkSync(a, link);
  await expect(openMediaFile(link, '"link.wav"')).rejects.toMatchObject({ code: 'FORBIDDEN_PATH' });
  const opened = await openMediaFile(a, '"a.wav"');
  try {
    // the name now points at a different clip; the descriptor still reads the one that was opened
    renameSync(a, join(tmp.dir, 'moved.wav'));
    writeFileSync(a, readFileSync(clip('librivox-0880').path));
    const viaFd = await decodeAudio(opened);
    const viaFfmpeg = await decodeAudio(opened, { wavFastPath: false });
    expect(viaFd.durationSeconds).toBeCloseTo(1.43, 1);
    expect(viaFfmpeg.decoder).toBe('ffmpeg');
    expect(viaFfmpeg.durationSeconds).toBeCloseTo(1.43, 1);
  } finally {
    await opened.handle.close();
    rmSync(link);
  }
});
