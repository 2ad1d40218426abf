/**
 * What the vision-model observer shows its model: frames chosen at the scene cuts (the first
 * moments of each shot) plus frames spread over the clip to cover long shots, a bounded number of
 * them, each scaled so its longest side is at most `maxSide` and encoded as JPEG by sharp; or, for a
 * server that takes video, the clip itself re-encoded small (H.264, a few frames per second, no
 * sound) within a byte limit.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OmnicapError } from '../../errors';
import { extractFrames, resolveBinary } from '../../media';
import { ffmpegFailure, runTool } from '../../media/ffmpeg';
import { throwIfAborted } from '../../util/abort';
import { withTempDir } from './proc';

/** A frame chosen for the model: its time and whether it opens a shot. */
export interface FrameChoice {
  time: number;
  atCut: boolean;
}

/** A frame as sent: JPEG bytes, its time and size. */
export interface VlmFrame extends FrameChoice {
  jpeg: Buffer;
  width: number;
  height: number;
}

/** How far into a shot its frame is taken (the cut frame itself may be a transition): 0.2 s, or half a short shot. */
const INTO_SHOT_SECONDS = 0.2;
/** Frames added for coverage keep at least this far from every other frame. */
const MIN_SPACING_SECONDS = 0.25;

const round2 = (t: number): number => Math.round(t * 100) / 100;

/**
 * The frame times for a clip of `duration` s with scene cuts at `cuts`: one frame early in each
 * shot (spread evenly over the shots when there are more than `maxFrames`), then frames on an even
 * grid, each time the grid point farthest from the frames chosen so far, while it is at least
 * max(0.25 s, duration / (2 maxFrames)) away from them. At most `maxFrames`, in time order, none
 * after the last frame (`frameSeconds` before the end).
 */
export function chooseFrameTimes(duration: number, cuts: readonly number[], maxFrames: number, frameSeconds = 0.04): FrameChoice[] {
  if (!Number.isInteger(maxFrames) || maxFrames < 1) throw new OmnicapError('INVALID_ARGUMENT', `maxFrames must be an integer >= 1 but is ${maxFrames}`);
  const d = Number.isFinite(duration) && duration > 0 ? duration : 0;
  const last = Math.max(0, d - frameSeconds);
  const starts = [0, ...cuts.filter((c) => c > 0 && c < d).sort((a, b) => a - b)];
  const shot = starts.map((s, i) => ({ time: Math.min(last, s + Math.min(INTO_SHOT_SECONDS, ((starts[i + 1] ?? d) - s) / 2)), atCut: i > 0 }));
  let chosen: FrameChoice[] = shot;
  if (shot.length > maxFrames) {
    const picked = new Set<number>();
    for (let i = 0; i < maxFrames; i++) picked.add(maxFrames === 1 ? 0 : Math.round((i * (shot.length - 1)) / (maxFrames - 1)));
    chosen = [...picked].map((i) => shot[i]);
  }
  const spacing = Math.max(MIN_SPACING_SECONDS, d / (2 * maxFrames));
  const grid = Array.from({ length: maxFrames }, (_, k) => Math.min(last, ((k + 0.5) * d) / maxFrames));
  while (chosen.length < maxFrames) {
    let best: number | undefined;
    let bestGap = -1;
    for (const g of grid) {
      const gap = Math.min(...chosen.map((c) => Math.abs(c.time - g)));
      if (gap > bestGap) [best, bestGap] = [g, gap];
    }
    if (best === undefined || bestGap < spacing) break;
    chosen.push({ time: best, atCut: false });
  }
  const out = chosen.map((c) => ({ time: round2(c.time), atCut: c.atCut })).sort((a, b) => a.time - b.time);
  return out.filter((c, i) => i === 0 || c.time !== out[i - 1].time);
}

/** The size of a `w` x `h` picture scaled down (never up) so its longest side is at most `maxSide`; `even` rounds both to even numbers (H.264). */
export function fitSize(w: number, h: number, maxSide: number, even = false): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(w, h));
  const r = (x: number): number => (even ? Math.max(2, 2 * Math.floor((x * scale) / 2)) : Math.max(1, Math.round(x * scale)));
  return { width: r(w), height: r(h) };
}

/** The frames at `choices` as JPEG, longest side at most `maxSide`; a time that decodes to no frame (past the end) is left out. */
export async function grabFrames(path: string, choices: readonly FrameChoice[], o: { sourceWidth: number; sourceHeight: number; maxSide: number; quality: number; signal: AbortSignal }): Promise<VlmFrame[]> {
  const sharp = (await import('sharp')).default;
  const size = fitSize(o.sourceWidth, o.sourceHeight, o.maxSide);
  const out: VlmFrame[] = [];
  for (const c of choices) {
    throwIfAborted(o.signal);
    const set = await extractFrames(path, { fps: 25, format: 'raw', maxFrames: 1, startSeconds: c.time, width: size.width, height: size.height, signal: o.signal });
    const f = set.frames[0];
    if (f === undefined || f.format !== 'raw') continue;
    const jpeg = await sharp(f.data, { raw: { width: f.width, height: f.height, channels: 3 } }).jpeg({ quality: o.quality }).toBuffer();
    out.push({ ...c, jpeg, width: f.width, height: f.height });
  }
  return out;
}

/** The clip re-encoded for a model that takes video. */
export interface VlmVideo {
  mp4: Buffer;
  seconds: number;
  fps: number;
  width: number;
  height: number;
}

/**
 * The first `maxSeconds` of the clip's picture as a small MP4 (H.264, `fps` frames per second,
 * longest side at most `maxSide`, no sound). MEDIA_TOO_LARGE when it still exceeds `maxBytes`.
 */
export async function encodeVideo(path: string, o: { duration: number; sourceWidth: number; sourceHeight: number; maxSide: number; fps: number; maxSeconds: number; maxBytes: number; signal: AbortSignal }): Promise<VlmVideo> {
  const { width, height } = fitSize(o.sourceWidth, o.sourceHeight, o.maxSide, true);
  const seconds = Math.min(o.duration > 0 ? o.duration : o.maxSeconds, o.maxSeconds);
  return withTempDir(async (dir) => {
    const file = join(dir, 'clip.mp4');
    const args = ['-nostdin', '-hide_banner', '-noautorotate', '-i', path, '-map', '0:v:0', '-an', '-sn', '-dn', '-t', seconds.toFixed(3), '-vf', `fps=${o.fps},scale=${width}:${height}:flags=area,format=yuv420p`, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '30', '-threads', '1', '-movflags', '+faststart', '-f', 'mp4', file];
    const r = await runTool(resolveBinary('ffmpeg'), args, { signal: o.signal });
    if (!r.ok) throw ffmpegFailure(r, 'video', 'the clip');
    const mp4 = await readFile(file);
    if (mp4.byteLength > o.maxBytes) {
      throw new OmnicapError('MEDIA_TOO_LARGE', `the clip re-encoded for the vision model is ${mp4.byteLength} bytes, over the limit of ${o.maxBytes}; send frames instead (no --vlm-video)`, { details: { limit: o.maxBytes } });
    }
    return { mp4, seconds: round2(seconds), fps: o.fps, width, height };
  });
}
