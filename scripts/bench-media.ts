/**
 * Media benchmark: decodeAudio throughput (x real time) for the WAV fast path vs ffmpeg, the TS
 * sinc resampler vs ffmpeg's, compressed formats, and extractFrames.
 *
 *   bash scripts/fetch-test-media.sh && npm run build:ts && npm run bench:media -- [--reps R]
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { decodeAudio, extractFrames, type DecodeOptions } from '../src/media';
import { packageRoot } from '../src/util/paths';

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { reps: { type: 'string', default: '5' } } });
  const reps = Math.max(1, Number(values.reps));
  const cache = join(packageRoot(), 'test', 'media', 'cache');
  const cases: Array<[string, string, DecodeOptions]> = [
    ['16 kHz s16 WAV 34 s, fast path', 'derived/speech-long.wav', {}],
    ['16 kHz s16 WAV 34 s, ffmpeg', 'derived/speech-long.wav', { wavFastPath: false }],
    ['44.1 kHz WAV 12 s, TS sinc', 'lena/lena.wav', {}],
    ['44.1 kHz WAV 12 s, ffmpeg', 'lena/lena.wav', { wavFastPath: false }],
    ['48 kHz stereo WAV 7 s, TS sinc', 'derived/speech-0870-48k-stereo.wav', {}],
    ['mp3 12 s', 'lena/lena.mp3', {}],
    ['m4a 12 s', 'lena/lena.m4a', {}],
    ['mp4 video audio 6 s', 'derived/video-av.mp4', {}],
  ];
  console.log(`decodeAudio, mean of ${reps} runs after one warm-up`);
  for (const [label, file, options] of cases) {
    const path = join(cache, file);
    await decodeAudio(path, options);
    const t0 = process.hrtime.bigint();
    let seconds = 0;
    for (let i = 0; i < reps; i++) seconds = (await decodeAudio(path, options)).durationSeconds;
    const ms = Number(process.hrtime.bigint() - t0) / 1e6 / reps;
    console.log(`  ${label.padEnd(34)} ${ms.toFixed(1).padStart(7)} ms  ${((seconds * 1000) / ms).toFixed(0).padStart(6)}x real time`);
  }
  const video = join(cache, 'derived', 'video-av.mp4');
  for (const format of ['raw', 'png'] as const) {
    const t0 = process.hrtime.bigint();
    const set = await extractFrames(video, { fps: 5, width: 224, height: 224, format });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`extractFrames ${format} 5 fps 224x224: ${set.frames.length} frames in ${ms.toFixed(0)} ms (${(ms / set.frames.length).toFixed(1)} ms/frame)`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
