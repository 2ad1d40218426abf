/**
 * Videos for the video observer tests, rendered with the project's ffmpeg from lavfi sources and
 * crops of one large rendered image, with hand-labelled cuts, motion, colours, black and frozen
 * stretches. Small (320x240, 25 fps, 2-10 s) because the CPU is shared.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveBinary } from '../../src/media';

const FPS = 25;
const SIZE = '320x240';

function ffmpeg(args: string[]): void {
  execFileSync(resolveBinary('ffmpeg'), ['-y', '-nostdin', '-loglevel', 'error', ...args]);
}

const H264 = ['-c:v', 'libx264', '-preset', 'veryfast', '-pix_fmt', 'yuv420p', '-an'];

/** A 1280x720 still of the Mandelbrot set: texture everywhere, to crop moving windows from. */
export function bigImage(dir: string): string {
  const out = join(dir, 'big.png');
  if (!existsSync(out)) ffmpeg(['-f', 'lavfi', '-i', 'mandelbrot=s=1280x720:start_scale=1.5:end_scale=1.5', '-frames:v', '1', out]);
  return out;
}

interface Segment {
  /** lavfi source, or a crop of the big image: [x, y]. */
  source: string | [number, number];
  frames: number;
}

/** Segments concatenated at 25 fps; returns the path and the time each segment starts. */
function concat(dir: string, name: string, segments: readonly Segment[]): { path: string; starts: number[] } {
  const inputs: string[] = [];
  const chains: string[] = [];
  segments.forEach((s, i) => {
    if (typeof s.source === 'string') inputs.push('-f', 'lavfi', '-i', `${s.source}${s.source.includes('=') ? ':' : '='}s=${SIZE}:r=${FPS}`);
    else inputs.push('-loop', '1', '-framerate', String(FPS), '-i', bigImage(dir));
    const crop = typeof s.source === 'string' ? '' : `crop=320:240:${s.source[0]}:${s.source[1]},`;
    chains.push(`[${i}:v]${crop}trim=end_frame=${s.frames},setpts=PTS-STARTPTS,format=yuv420p[s${i}]`);
  });
  const labels = segments.map((_, i) => `[s${i}]`).join('');
  const path = join(dir, `${name}.mp4`);
  ffmpeg([...inputs, '-filter_complex', `${chains.join(';')};${labels}concat=n=${segments.length}:v=1:a=0[v]`, '-map', '[v]', ...H264, path]);
  const starts: number[] = [];
  let t = 0;
  for (const s of segments) {
    starts.push(Number(t.toFixed(2)));
    t += s.frames / FPS;
  }
  return { path, starts };
}

/**
 * 8 s of six shots with hard cuts at 2.0, 3.6, 5.6, 6.6 and 7.4 s: test pattern, Mandelbrot zoom,
 * SMPTE bars, solid red, and two crops of the same image (same palette, different picture).
 */
export function makeCutsVideo(dir: string): { path: string; cuts: number[] } {
  const { path, starts } = concat(dir, 'cuts', [
    { source: 'testsrc2', frames: 50 },
    { source: 'mandelbrot', frames: 40 },
    { source: 'smptebars', frames: 50 },
    { source: 'color=c=red', frames: 25 },
    { source: [100, 60], frames: 20 },
    { source: [760, 420], frames: 15 },
  ]);
  return { path, cuts: starts.slice(1) };
}

/** Solid colours, 0.4 s each, and the word each should get. */
export const SOLID_COLOURS = [
  ['red', 'red'],
  ['0x008000', 'green'],
  ['blue', 'blue'],
  ['yellow', 'yellow'],
  ['white', 'white'],
  ['0xFFA500', 'orange'],
  ['0x800080', 'purple'],
  ['0x808080', 'grey'],
  ['0x000080', 'dark blue'],
] as const;

export function makeColoursVideo(dir: string): { path: string; starts: number[] } {
  return concat(dir, 'colours', SOLID_COLOURS.map(([c]) => ({ source: `color=c=${c}`, frames: 10 })));
}

/** 6 s: test pattern 0-1.5 s, black 1.5-2.5 s, a still image 2.5-4.5 s, test pattern 4.5-6.0 s. */
export function makeBlackFrozenVideo(dir: string): string {
  return concat(dir, 'black-frozen', [
    { source: 'testsrc2', frames: 38 },
    { source: 'color=c=black', frames: 25 },
    { source: [300, 200], frames: 50 },
    { source: 'testsrc2', frames: 37 },
  ]).path;
}

/**
 * 10 s, one continuous shot over the big image, no audio: a steady view 0-3 s, the camera pans
 * right at 160 px/s (half a frame width per second) 3-7 s, then the view shakes (random jitter of
 * up to +-8 px per frame) 7-10 s.
 */
export function makeMovingVideo(dir: string): string {
  const out = join(dir, 'moving.mp4');
  const x = "if(lt(t,3),100,if(lt(t,7),100+160*(t-3),740+16*(random(1)-0.5)))";
  const y = "if(lt(t,7),200,200+16*(random(2)-0.5))";
  ffmpeg(['-loop', '1', '-framerate', String(FPS), '-i', bigImage(dir), '-vf', `crop=320:240:'${x}':'${y}',format=yuv420p`, '-t', '10', ...H264, out]);
  return out;
}

/** 3 s of Conway's game of life: most of the picture changes every frame, nothing moves as a whole. */
export function makeFastVideo(dir: string): string {
  const out = join(dir, 'fast.mp4');
  ffmpeg(['-f', 'lavfi', '-i', `life=s=${SIZE}:r=${FPS}:mold=10:ratio=0.3:life_color=#ffff00:death_color=#203050`, '-t', '3', ...H264, out]);
  return out;
}

/** A video of one frame. */
export function makeSingleFrameVideo(dir: string): string {
  const out = join(dir, 'one-frame.mp4');
  ffmpeg(['-f', 'lavfi', '-i', `color=c=red:s=${SIZE}:r=${FPS}`, '-frames:v', '1', ...H264, out]);
  return out;
}

/** The head of an MP4 whose index (moov) is at the end: ffmpeg cannot read it. */
export function makeCutOffVideo(dir: string, whole: string): string {
  const out = join(dir, 'cut-off.mp4');
  const full = join(dir, 'no-faststart.mp4');
  ffmpeg(['-i', whole, '-c', 'copy', full]);
  const bytes = readFileSync(full);
  writeFileSync(out, bytes.subarray(0, Math.floor(bytes.byteLength / 3)));
  return out;
}
