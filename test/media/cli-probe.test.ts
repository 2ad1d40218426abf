import { command } from '../../src/cli/commands/probe';
import type { ProbeResult } from '../../src/media';
import { captureIo } from '../cli/capture';
import { clip } from './helpers';

interface Line {
  file: string;
  probe: ProbeResult;
  decoded?: { decoder: string; resampler: string; samples: number; sampleRate: number; durationSeconds: number; rms: number; rmsDb: number | null; peak: number };
  error?: { code: string; message: string };
}

describe('omnicap probe', () => {
  test('--json: probe info and decoded duration/samples/RMS per file, errors per line', async () => {
    const c = captureIo();
    const files = [clip('librivox-0870').path, clip('video-noaudio-mp4').path, '/nonexistent/file.wav', clip('speech-0870-48k-stereo').path];
    const code = await command.run([...files, '--json'], c);
    expect(code).toBe(1);
    const lines = c.out().trim().split('\n').map((l) => JSON.parse(l) as Line);
    expect(lines).toHaveLength(4);
    expect(lines[0].file).toBe(files[0]);
    expect(lines[0].probe).toMatchObject({ formatName: 'wav', hasAudio: true, hasVideo: false });
    expect(lines[0].decoded).toMatchObject({ decoder: 'wav', samples: 113600, sampleRate: 16000, durationSeconds: 7.1 });
    expect(lines[0].decoded?.rms).toBeGreaterThan(0.01);
    expect(lines[0].decoded?.rmsDb).toBeLessThan(0);
    expect(lines[1].probe.hasAudio).toBe(false);
    expect(lines[1].decoded).toBeUndefined();
    expect(lines[2].error).toMatchObject({ code: 'MEDIA_NOT_FOUND' });
    expect(lines[3].decoded).toMatchObject({ resampler: 'sinc', samples: 113600 });
  });

  test('text output and --no-decode; exit 0 when all succeed', async () => {
    const c = captureIo();
    expect(await command.run([clip('video-av-mp4').path, clip('lena-mp3').path], c)).toBe(0);
    const text = c.out();
    expect(text).toContain('video h264, 320x240, 25 fps');
    expect(text).toContain('audio aac, 16000 Hz, 1 ch');
    expect(text).toMatch(/decoded \(ffmpeg, resampler ffmpeg\): \d+ samples @ 16000 Hz = 12\.\d+ s, RMS 0\.\d+/);
    const d = captureIo();
    expect(await command.run([clip('librivox-0880').path, '--no-decode'], d)).toBe(0);
    expect(d.out()).not.toContain('decoded');
  });

  test('flag errors are INVALID_ARGUMENT; usage documents every flag', async () => {
    await expect(command.run([], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run(['x.wav', '--bogus'], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(command.run(['x.wav', '--max-bytes', 'lots'], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    for (const flag of ['--json', '--no-decode', '--max-bytes', '--max-duration', '--ffmpeg', '--ffprobe']) expect(command.usage).toContain(flag);
    expect(command.name).toBe('probe');
  });

  test('--max-duration and --ffmpeg reach the library', async () => {
    const c = captureIo();
    expect(await command.run([clip('speech-long').path, '--json', '--max-duration', '30'], c)).toBe(1);
    expect((JSON.parse(c.out()) as Line).error?.code).toBe('MEDIA_TOO_LONG');
    const d = captureIo();
    expect(await command.run([clip('lena-mp3').path, '--json', '--ffmpeg', '/nonexistent/ffmpeg'], d)).toBe(1);
    expect((JSON.parse(d.out()) as Line).error?.code).toBe('FFMPEG_NOT_FOUND');
  });
});
