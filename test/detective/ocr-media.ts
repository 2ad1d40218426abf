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

const FONT_REGULAR = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';

/**
 * An 8 s screencast-like 640x360 video (a settings page drawn with drawtext): "SETTINGS" in a title
 * bar whose first letter is covered 2-4 s, "All Settings" pushed past the right edge 2-4 s (only "All
 * Setti..." visible), "RECENT ITEMS" whose end is covered from 5.5 s ("RECENT ITE"), a field
 * "Resolution 1024 x 768" that becomes "Resolution 1280 x 1024" at 4.6 s, and "Changes saved"
 * appearing at 6 s.
 */
export function makeScreencastVideo(dir: string): string {
  const out = join(dir, 'screencast.mp4');
  const text = (t: string, font: string, x: string, y: number, extra = ''): string => `drawtext=fontfile=${font}:text='${t}':fontsize=26:fontcolor=black:x=${x}:y=${y}${extra}`;
  const filters = [
    'drawbox=x=0:y=0:w=640:h=50:color=0x3060A0:t=fill',
    `drawtext=fontfile=${FONT}:text='SETTINGS':fontsize=30:fontcolor=white:x=20:y=10`,
    "drawbox=x=14:y=4:w=26:h=42:color=0x3060A0:t=fill:enable='between(t,2,3.99)'",
    text('All Settings', FONT_REGULAR, "'if(between(t,2,3.99),530,40)'", 80),
    text('RECENT ITEMS', FONT, '40', 140),
    "drawbox=x=200:y=135:w=80:h=40:color=0xF0F0F0:t=fill:enable='gte(t,5.5)'",
    text('Resolution 1024 x 768', FONT_REGULAR, '40', 220, ":enable='lt(t,4.6)'"),
    text('Resolution 1280 x 1024', FONT_REGULAR, '40', 220, ":enable='gte(t,4.6)'"),
    `drawtext=fontfile=${FONT}:text='Changes saved':fontsize=26:fontcolor=0x207020:x=40:y=290:enable='gte(t,6)'`,
  ];
  execFileSync(resolveBinary('ffmpeg'), ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=0xF0F0F0:s=640x360:d=8:r=5', '-vf', filters.join(','), '-c:v', 'mpeg4', '-q:v', '3', out]);
  return out;
}
