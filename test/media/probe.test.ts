import { readFileSync, statSync } from 'node:fs';
import { probeMedia } from '../../src/media';
import { parseRate, toProbeResult } from '../../src/media/probe';
import { clip } from './helpers';

describe('probeMedia on real media', () => {
  test('16 kHz speech WAV', async () => {
    const c = clip('librivox-0870');
    const p = await probeMedia(c.path);
    expect(p).toMatchObject({ formatName: 'wav', sizeBytes: statSync(c.path).size, hasAudio: true, hasVideo: false });
    expect(p.durationSeconds).toBeCloseTo(7.1, 3);
    expect(p.streams).toEqual([{ index: 0, type: 'audio', codec: 'pcm_s16le', sampleRate: 16000, channels: 1, durationSeconds: expect.closeTo(7.1, 3) }]);
  });

  test('mp4 with video and audio; the same from a Buffer', async () => {
    const c = clip('video-av-mp4');
    const p = await probeMedia(c.path);
    expect(p.formatName).toContain('mp4');
    expect(p.hasAudio && p.hasVideo).toBe(true);
    expect(p.durationSeconds).toBeCloseTo(6, 1);
    const v = p.streams.find((s) => s.type === 'video');
    const a = p.streams.find((s) => s.type === 'audio');
    expect(v).toMatchObject({ codec: 'h264', width: 320, height: 240, fps: 25 });
    expect(a).toMatchObject({ codec: 'aac', sampleRate: 16000, channels: 1 });
    expect(p.bitRate).toBeGreaterThan(0);
    const fromBuffer = await probeMedia(readFileSync(c.path));
    expect(fromBuffer).toEqual(p);
  });

  test('video without audio, mkv, stereo 48 kHz, music formats', async () => {
    const noAudio = await probeMedia(clip('video-noaudio-mp4').path);
    expect(noAudio.hasAudio).toBe(false);
    expect(noAudio.hasVideo).toBe(true);
    const mkv = await probeMedia(clip('video-av-mkv').path);
    expect(mkv.formatName).toBe('matroska,webm');
    expect(mkv.streams.map((s) => s.type).sort()).toEqual(['audio', 'video']);
    const stereo = await probeMedia(clip('speech-0870-48k-stereo').path);
    expect(stereo.streams[0]).toMatchObject({ sampleRate: 48000, channels: 2 });
    for (const [id, fmt] of [['lena-mp3', 'mp3'], ['lena-ogg', 'ogg'], ['lena-flac', 'flac'], ['lena-opus', 'ogg'], ['lena-webm', 'matroska,webm']]) {
      const p = await probeMedia(clip(id).path);
      expect(p.formatName).toBe(fmt);
      expect(p.durationSeconds).toBeCloseTo(12.27, 1);
      expect(p.hasAudio).toBe(true);
    }
  });

  test('errors: missing file, empty buffer, random bytes (stderr kept), abort', async () => {
    await expect(probeMedia('/nonexistent/x.wav')).rejects.toMatchObject({ code: 'MEDIA_NOT_FOUND' });
    await expect(probeMedia(Buffer.alloc(0))).rejects.toMatchObject({ code: 'MEDIA_EMPTY' });
    const err = await probeMedia(Buffer.from('this is plain text, not a media container at all')).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'MEDIA_UNSUPPORTED', details: { stderr: expect.stringContaining('Invalid data') } });
    const ac = new AbortController();
    ac.abort();
    await expect(probeMedia(clip('librivox-0870').path, { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(probeMedia(clip('librivox-0870').path, { maxBytes: 10 })).rejects.toMatchObject({ code: 'MEDIA_TOO_LARGE' });
  });

  test('ffprobe JSON conversion: rates, cover art is not video, missing durations', () => {
    expect(parseRate('30000/1001')).toBeCloseTo(29.97, 2);
    expect(parseRate('0/0')).toBeUndefined();
    expect(parseRate('25')).toBe(25);
    const r = toProbeResult(
      {
        streams: [
          { index: 0, codec_type: 'audio', codec_name: 'mp3', sample_rate: '44100', channels: 2, duration: '3.5' },
          { index: 1, codec_type: 'video', codec_name: 'mjpeg', width: 500, height: 500, disposition: { attached_pic: 1 } },
        ],
        format: { format_name: 'mp3' },
      },
      1234,
    );
    expect(r).toMatchObject({ durationSeconds: 3.5, formatName: 'mp3', sizeBytes: 1234, hasAudio: true, hasVideo: false });
  });
});
