/** Videos for the OCR tests, made with the project's ffmpeg: timed on-screen text, and text-free noise. */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { resolveBinary } from '../../src/media';

const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf'; // Debian fonts-dejavu-core

/** What the timed-text video shows, and when (seconds). */
export const TIMED_TEXT = [
  { text: 'WELCOME TO OMNICAP', from: 0, to: 10 },
  { text: 'QUARTERLY RESULTS', from: 10, to: 20 },
  { text: 'Revenue grew twelve percent', from: 10, to: 20 },
  { text: 'FINAL SUMMARY', from: 22, to: 35 },
  { text: 'Thank you for watching', from: 22, to: 35 },
] as const;

/** A 35 s 640x360 MPEG-4 video: three title cards, the last one only after 22 s. */
export function makeTimedTextVideo(dir: string): string {
  const pos = ['y=140', 'y=110', 'y=200', 'y=110', 'y=200'];
  const size = [44, 44, 30, 44, 30];
  const filters = TIMED_TEXT.map(
    (t, i) => `drawtext=fontfile=${FONT}:text='${t.text}':fontsize=${size[i]}:fontcolor=white:x=(w-tw)/2:${pos[i]}:enable='between(t,${t.from},${t.to - 0.01})'`,
  );
  const out = join(dir, 'timed-text.mp4');
  execFileSync(resolveBinary('ffmpeg'), ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=0x203050:s=640x360:d=35:r=5', '-vf', filters.join(','), '-c:v', 'mpeg4', '-q:v', '3', out]);
  return out;
}

/** 6 s of changing blocky grey noise: Tesseract in sparse-text mode reads junk "words" from it. */
export function makeNoiseVideo(dir: string): string {
  const out = join(dir, 'noise.mp4');
  execFileSync(resolveBinary('ffmpeg'), ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=gray:s=160x90:r=2,noise=alls=100:allf=t+u,scale=640:360:flags=neighbor', '-t', '6', '-c:v', 'mpeg4', '-q:v', '2', out]);
  return out;
}
