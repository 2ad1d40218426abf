import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { decodeAudio, resolveBinary } from '../../src/media';
import { ffmpegFailure, runTool, stderrTail } from '../../src/media/ffmpeg';
import { clip } from './helpers';
import { until } from '../wait';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('runTool (the one ffmpeg process wrapper)', () => {
  const ffmpeg = (): string => resolveBinary('ffmpeg');
  // An endless real-time source: only a kill ends it.
  const endless = ['-nostdin', '-hide_banner', '-re', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=16000', '-f', 'f32le', 'pipe:1'];

  test('abort kills a running ffmpeg and rejects with ABORTED', async () => {
    const ac = new AbortController();
    let pid = -1;
    let bytes = 0;
    const progress = new EventEmitter();
    const p = runTool(ffmpeg(), endless, {
      signal: ac.signal,
      onSpawn: (id) => {
        pid = id;
        progress.emit('change');
      },
      onStdout: (c) => {
        bytes += c.length;
        progress.emit('change');
      },
    });
    await until(() => pid > 0 && bytes > 0, [[progress, 'change']], 'ffmpeg to start writing audio');
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid)).toBe(true);
    ac.abort();
    await expect(p).rejects.toMatchObject({ code: 'ABORTED' });
    expect(alive(pid)).toBe(false);
    expect(bytes).toBeGreaterThan(0);
  });

  test('a throwing onStdout kills ffmpeg and rejects with that error', async () => {
    let pid = -1;
    const p = runTool(ffmpeg(), endless, {
      onSpawn: (id) => (pid = id),
      onStdout: () => {
        throw new Error('enough');
      },
    });
    await expect(p).rejects.toThrow('enough');
    expect(alive(pid)).toBe(false);
  });

  test('a timeout signal gives TIMEOUT', async () => {
    await expect(runTool(ffmpeg(), endless, { signal: AbortSignal.timeout(200), captureStdout: false })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  test('unspawnable binary -> FFMPEG_NOT_FOUND', async () => {
    await expect(runTool('/nonexistent/ffmpeg', ['-version'])).rejects.toMatchObject({ code: 'FFMPEG_NOT_FOUND', details: { errno: 'ENOENT' } });
  });

  test('failures are classified from stderr and keep its tail', async () => {
    const r = await runTool(ffmpeg(), ['-nostdin', '-hide_banner', '-i', clip('video-noaudio-mp4').path, '-map', '0:a:0', '-f', 'f32le', 'pipe:1']);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const e = ffmpegFailure(r, 'audio', 'the clip');
    expect(e.code).toBe('MEDIA_NO_AUDIO');
    // the message names only the caller's label; ffmpeg's stderr (paths, heap addresses) is in details
    expect(e.message).toBe('Expected the clip to contain an audio stream but it has none');
    expect(e.details).toMatchObject({ purpose: 'audio', exitCode: 1, stderr: expect.stringContaining('matches no streams') });
    expect(ffmpegFailure(r, 'video', 'x').code).toBe('MEDIA_NO_VIDEO');
    expect(stderrTail('a\n\nb\r\nc\n', 2)).toBe('b\nc');
  });
});

describe('truncated compressed media through ffmpeg', () => {
  const cut = (): Buffer => readFileSync(clip('video-av-mp4').path).subarray(0, 20000);

  test('default: decodes what is there, with a decoder-messages warning', async () => {
    const got = await decodeAudio(cut());
    expect(got.decoder).toBe('ffmpeg');
    expect(got.durationSeconds).toBeGreaterThan(0.2);
    expect(got.durationSeconds).toBeLessThan(5.5);
    expect(got.warnings).toEqual([expect.objectContaining({ code: 'decoder-messages', lines: expect.arrayContaining([expect.stringMatching(/partial file|Invalid data/)]) })]);
  });

  test("onTruncated: 'error' -> MEDIA_CORRUPT; a bad onTruncated value -> INVALID_ARGUMENT", async () => {
    await expect(decodeAudio(cut(), { onTruncated: 'error' })).rejects.toMatchObject({ code: 'MEDIA_CORRUPT' });
    await expect(decodeAudio(cut(), { onTruncated: 'ignore' as 'error' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'onTruncated' } });
    const whole = await decodeAudio(clip('video-av-mp4').path, { onTruncated: 'error' });
    expect(whole.warnings).toEqual([]);
  });
});
