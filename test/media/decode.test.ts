import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeAudio, probeMedia, audioStats, resolveBinary } from '../../src/media';
import { bestCorrelation, clip, snrDb, tempDir } from './helpers';

const tmp = tempDir('omnicap-test-media-decode-');
afterAll(() => tmp.cleanup());

/** Re-encode a real clip with the static ffmpeg into the temp dir. */
function encode(src: string, name: string, args: string[]): string {
  const out = join(tmp.dir, name);
  execFileSync(resolveBinary('ffmpeg'), ['-nostdin', '-v', 'error', '-y', '-i', src, ...args, out]);
  return out;
}

const REF = 'librivox-0870';

describe('decodeAudio on real media', () => {
  test('16 kHz mono s16 WAV takes the fast path and matches ffmpeg exactly', async () => {
    const c = clip(REF);
    const fast = await decodeAudio(c.path);
    const slow = await decodeAudio(c.path, { wavFastPath: false });
    expect(fast.decoder).toBe('wav');
    expect(fast.resampler).toBe('none');
    expect(slow.decoder).toBe('ffmpeg');
    expect(fast.sampleRate).toBe(16000);
    expect(fast.samples.length).toBe(slow.samples.length);
    expect(fast.samples.length).toBe(7.1 * 16000);
    let maxDiff = 0;
    for (let i = 0; i < fast.samples.length; i++) maxDiff = Math.max(maxDiff, Math.abs(fast.samples[i] - slow.samples[i]));
    expect(maxDiff).toBeLessThan(1e-6);
    expect(fast.source).toEqual({ formatName: 'wav', codec: 'pcm_s16le', sampleRate: 16000, channels: 1 });
    expect(slow.source).toMatchObject({ formatName: 'wav', codec: 'pcm_s16le', sampleRate: 16000, channels: 1 });
    expect(audioStats(fast.samples).rms).toBeGreaterThan(0.01);
    expect(fast.warnings).toEqual([]);
  });

  test('a Buffer decodes exactly like the path, through both decoders', async () => {
    const c = clip('speech-0870-mp3');
    const fromPath = await decodeAudio(c.path);
    const fromBuffer = await decodeAudio(readFileSync(c.path));
    expect(Array.from(fromBuffer.samples)).toEqual(Array.from(fromPath.samples));
    const wav = clip(REF);
    const wavBuf = await decodeAudio(readFileSync(wav.path));
    expect(wavBuf.decoder).toBe('wav');
    expect(wavBuf.samples.length).toBe(7.1 * 16000);
  });

  test.each(['speech-0870-f32', 'speech-0870-flac'])('lossless %s equals the s16 original', async (id) => {
    const ref = await decodeAudio(clip(REF).path);
    const got = await decodeAudio(clip(id).path);
    expect(got.decoder).toBe(id.endsWith('f32') ? 'wav' : 'ffmpeg');
    expect(got.samples.length).toBe(ref.samples.length);
    expect(snrDb(ref.samples, got.samples)).toBeGreaterThan(80);
  });

  test.each([
    ['speech-0870-mp3', 'mp3'],
    ['speech-0870-ogg', 'vorbis'],
    ['speech-0870-m4a', 'aac'],
    ['speech-0870-opus', 'opus'],
  ])('lossy %s decodes with ffmpeg to the same speech', async (id, codec) => {
    const ref = await decodeAudio(clip(REF).path);
    const got = await decodeAudio(clip(id).path);
    expect(got.decoder).toBe('ffmpeg');
    expect(got.source.codec).toBe(codec);
    expect(Math.abs(got.durationSeconds - ref.durationSeconds)).toBeLessThan(0.15);
    const { r } = bestCorrelation(ref.samples.subarray(16000, 64000), got.samples.subarray(16000, 64000), 2000);
    expect(r).toBeGreaterThan(0.8);
    const level = audioStats(got.samples).rmsDb - audioStats(ref.samples).rmsDb;
    expect(Math.abs(level)).toBeLessThan(1.5);
  });

  test('48 kHz stereo WAV: channel mean + TS sinc resampler ~ ffmpeg resampler', async () => {
    const c = clip('speech-0870-48k-stereo');
    const fast = await decodeAudio(c.path);
    const slow = await decodeAudio(c.path, { wavFastPath: false });
    expect(fast.decoder).toBe('wav');
    expect(fast.resampler).toBe('sinc');
    expect(fast.source).toMatchObject({ sampleRate: 48000, channels: 2 });
    expect(Math.abs(fast.samples.length - slow.samples.length)).toBeLessThanOrEqual(2);
    expect(snrDb(slow.samples, fast.samples)).toBeGreaterThan(30);
    // The stereo file holds the mono speech at -3 dB in both channels; the mean keeps that level.
    const ref = await decodeAudio(clip(REF).path);
    expect(bestCorrelation(ref.samples.subarray(16000, 48000), fast.samples.subarray(16000, 48000), 50)).toEqual({ lag: 0, r: expect.closeTo(1, 3) });
    expect(audioStats(fast.samples).rmsDb - audioStats(ref.samples).rmsDb).toBeCloseTo(-3.01, 1);
    expect(audioStats(slow.samples).rmsDb - audioStats(ref.samples).rmsDb).toBeCloseTo(-3.01, 1);
  });

  test.each(['speech-0870-s24-44k', 'speech-0870-u8-8k'])('%s (24-bit 44.1 kHz / 8-bit 8 kHz) resamples to 16 kHz', async (id) => {
    const c = clip(id);
    const got = await decodeAudio(c.path);
    const viaFfmpeg = await decodeAudio(c.path, { wavFastPath: false });
    expect(got.decoder).toBe('wav');
    expect(got.source.sampleRate).toBe(c.sampleRate);
    expect(Math.abs(got.durationSeconds - 7.1)).toBeLessThan(0.01);
    expect(snrDb(viaFfmpeg.samples, got.samples)).toBeGreaterThan(c.sampleRate === 8000 ? 20 : 30);
  });

  test('music (audio-lena) in every container decodes to the same 12.27 s', async () => {
    const wav = await decodeAudio(clip('lena-wav').path);
    expect(wav.resampler).toBe('sinc');
    expect(Math.abs(wav.durationSeconds - 12.2717)).toBeLessThan(0.001);
    for (const ext of ['mp3', 'ogg', 'flac', 'm4a', 'opus', 'webm']) {
      const got = await decodeAudio(clip(`lena-${ext}`).path);
      expect(Math.abs(got.durationSeconds - wav.durationSeconds)).toBeLessThan(0.1);
      const { r } = bestCorrelation(wav.samples.subarray(32000, 64000), got.samples.subarray(32000, 64000), 1200);
      expect(r).toBeGreaterThan(0.8);
    }
  });

  test('audio track of mp4 and mkv videos; 48 kHz alsa phrase; noise', async () => {
    const mp4 = await decodeAudio(clip('video-av-mp4').path);
    const mkv = await decodeAudio(clip('video-av-mkv').path);
    expect(mp4.decoder).toBe('ffmpeg');
    expect(Math.abs(mp4.durationSeconds - 6)).toBeLessThan(0.1);
    expect(Math.abs(mkv.durationSeconds - 6)).toBeLessThan(0.1);
    const ref = await decodeAudio(clip(REF).path);
    expect(bestCorrelation(ref.samples.subarray(16000, 80000), mp4.samples.subarray(16000, 80000), 2000).r).toBeGreaterThan(0.8);
    const phrase = await decodeAudio(clip('alsa-front-center').path);
    const p = await probeMedia(clip('alsa-front-center').path);
    expect(Math.abs(phrase.durationSeconds - p.durationSeconds)).toBeLessThan(0.001);
    const noise = await decodeAudio(clip('alsa-noise').path);
    expect(audioStats(noise.samples).rms).toBeGreaterThan(0.01);
  });

  test('WAV codecs wav-decoder cannot read (mu-law, IMA ADPCM) go to ffmpeg', async () => {
    const ref = await decodeAudio(clip(REF).path);
    for (const codec of ['pcm_mulaw', 'adpcm_ima_wav']) {
      const got = await decodeAudio(encode(clip(REF).path, `${codec}.wav`, ['-c:a', codec]));
      expect(got.decoder).toBe('ffmpeg');
      expect(got.source.codec).toBe(codec);
      expect(bestCorrelation(ref.samples.subarray(16000, 48000), got.samples.subarray(16000, 48000), 100).r).toBeGreaterThan(0.98);
    }
  });

  test('6-channel WAVE_FORMAT_EXTENSIBLE at 32 kHz: fast path, channel mean', async () => {
    const path = encode(clip(REF).path, 'six.wav', ['-af', 'aresample=32000,pan=5.1|c0=c0|c1=c0|c2=c0|c3=c0|c4=c0|c5=c0', '-c:a', 'pcm_s16le']);
    expect(readFileSync(path).readUInt16LE(20)).toBe(0xfffe);
    const got = await decodeAudio(path);
    expect(got.decoder).toBe('wav');
    expect(got.source).toMatchObject({ channels: 6, sampleRate: 32000 });
    const ref = await decodeAudio(clip(REF).path);
    expect(got.samples.length).toBe(ref.samples.length);
    expect(snrDb(ref.samples, got.samples)).toBeGreaterThan(30);
  });

  test('a > 30 s clip decodes whole', async () => {
    const long = await decodeAudio(clip('speech-long').path);
    expect(long.durationSeconds).toBeGreaterThan(30);
    expect(Math.abs(long.durationSeconds - 34.3803)).toBeLessThan(0.001);
  });
});
