/** Real test media: Debian package clips and a video with on-screen text made with sharp + ffmpeg. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { resolveBinary } from '../../src/media';

export const SPEECH = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav';
export const SPEECH_TEXT = 'he was not an ill disposed young man';
export const NOISE = '/usr/share/sounds/alsa/Noise.wav';
export const FRONT_CENTER = '/usr/share/sounds/alsa/Front_Center.wav';
export const OCR_TEXT = 'OMNI DETECTIVE 42';

export function ffmpegPath(): string {
  return resolveBinary('ffmpeg');
}

/** A 3 s MPEG-4 video: a PNG of rendered text plus the speech clip as its audio. */
export async function makeTextVideo(dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="640" height="360"><rect width="640" height="360" fill="white"/><text x="320" y="200" font-family="DejaVu Sans, sans-serif" font-size="56" font-weight="bold" text-anchor="middle" fill="black">${OCR_TEXT}</text></svg>`;
  const png = join(dir, 'text.png');
  writeFileSync(png, await sharp(Buffer.from(svg)).png().toBuffer());
  const out = join(dir, 'text-video.mp4');
  execFileSync(ffmpegPath(), ['-y', '-loglevel', 'error', '-loop', '1', '-framerate', '2', '-i', png, '-i', SPEECH, '-t', '3', '-c:v', 'mpeg4', '-q:v', '2', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-shortest', out]);
  return out;
}
