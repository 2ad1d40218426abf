/**
 * Video observer: measures the picture, it does not recognise anything in it. ffmpeg scales every
 * frame down to about 160 pixels wide (up to 30 frames per second, fewer for long clips), each
 * frame is measured (./frame-stats.ts) and the measurements summarised (./video-summary.ts): the
 * resolution, frame rate and duration, scene cuts with their times, per scene a keyframe's
 * brightness, contrast, saturation and dominant colours in plain words, camera motion over time
 * (static, panning, shaking, fast motion), black or frozen stretches, and the times where a small
 * part of an unmoving picture changes (text on a screen).
 */
import { stat } from 'node:fs/promises';
import { OmnicapError } from '../../errors';
import { probeMedia, scanFrames } from '../../media';
import { FrameMeter, type FrameStats } from './frame-stats';
import { blackStretches, detectCuts, frozenStretches, motion, scenes, smallPictureChanges, type MotionSpan, type Scene, type SceneCut, type Stretch } from './video-summary';
import { brightnessWord, contrastWord, saturationWord } from './colour';
import { disposableObserver, type DisposableObserver } from './disposable';

export interface VideoOptions {
  /** Width of the analysed frames (default 160). */
  width?: number;
  /** Most frames analysed per second (default 30). */
  maxFps?: number;
  /** Most frames analysed per clip: long clips are sampled more sparsely (default 3000). */
  maxFrames?: number;
}

export interface VideoData {
  width: number;
  height: number;
  /** Frame rate of the stream (null when the container does not say). */
  fps: number | null;
  durationSeconds: number;
  /** What was analysed: frames per second, size and count. */
  analysed: { fps: number; width: number; height: number; frames: number; seconds: number };
  cuts: SceneCut[];
  scenes: Scene[];
  motion: MotionSpan[];
  black: Stretch[];
  frozen: Stretch[];
  /** Times where a small part of an unmoving picture changes (text, a cursor). */
  pictureChanges: Stretch[];
  /** Something the numbers do not show (a single frame, a stream that decoded only in part). */
  notes: string[];
}

const s1 = (t: number): string => t.toFixed(1);
const span = (s: { start: number; end: number }): string => `${s1(s.start)}-${s1(s.end)} s`;
const changeAt = (s: Stretch): string => (s.start === s.end ? `${s1(s.start)} s` : span(s));

/** A keyframe in words with its numbers: "bright (0.71), moderate-contrast (0.18), vividly colourful (0.55); red 60 %, white 20 %". */
export function describeKeyframe(k: Scene['keyframe']): string {
  const colours = k.colours.map((c) => `${c.name} ${Math.round(c.share * 100)} %`).join(', ');
  return `${brightnessWord(k.brightness)} (brightness ${k.brightness.toFixed(2)}), ${contrastWord(k.contrast)} (contrast ${k.contrast.toFixed(2)}), ${saturationWord(k.saturation)} (saturation ${k.saturation.toFixed(2)})${colours === '' ? '' : `; colours: ${colours}`}`;
}

/** A motion span in words: "steady view", "the camera pans right (0.62 frame widths/s)", ... */
export function describeMotion(m: MotionSpan): string {
  switch (m.kind) {
    case 'fast':
      return m.speed >= 1 ? `fast camera movement (${m.speed.toFixed(2)} frame widths/s)` : `fast motion: much of the picture changes from frame to frame (activity ${m.activity.toFixed(3)})`;
    case 'shaking':
      return `the view shakes, moving back and forth with no steady direction (jitter ${m.jitter.toFixed(2)} frame widths/s)`;
    case 'pan':
      return `the camera ${m.direction ?? 'moves'} (${m.speed.toFixed(2)} frame widths/s)`;
    default:
      if (!m.measurable) return m.movingContent === true ? `the picture changes slightly (activity ${m.activity.toFixed(3)}); too little detail to measure camera movement` : 'no movement (too little detail to measure camera movement)';
      if (m.movingContent === true) return `the camera is steady, with movement inside the picture (activity ${m.activity.toFixed(3)})`;
      return m.smallChanges === true ? 'the camera is steady; nothing moves, but small parts of the picture change' : 'the camera is steady and nothing moves';
  }
}

/** The observer's answer: one paragraph of measurements. */
export function formatVideoAnswer(d: VideoData): string {
  const parts: string[] = [];
  parts.push(`Picture measurements (frame statistics, no object recognition): ${d.width}x${d.height}${d.fps !== null ? ` at ${d.fps.toFixed(d.fps % 1 === 0 ? 0 : 2)} fps` : ''}, ${s1(d.durationSeconds)} s (analysed ${d.analysed.frames} frames at ${d.analysed.fps.toFixed(d.analysed.fps % 1 === 0 ? 0 : 2)} fps).`);
  parts.push(d.cuts.length === 0 ? 'No scene cuts: one continuous shot.' : `${d.cuts.length} scene cut${d.cuts.length === 1 ? '' : 's'}, at ${d.cuts.map((c) => `${c.time.toFixed(2)} s`).join(', ')}.`);
  d.scenes.forEach((s, i) => parts.push(`Scene ${i + 1} (${span(s)}), keyframe at ${s1(s.keyframe.time)} s: ${describeKeyframe(s.keyframe)}.`));
  if (d.motion.length > 0) parts.push(`Motion: ${d.motion.map((m) => `${span(m)} ${describeMotion(m)}`).join('; ')}.`);
  if (d.black.length > 0) parts.push(`Black picture: ${d.black.map(span).join(', ')}.`);
  if (d.frozen.length > 0) parts.push(`Picture unchanged (still image or frozen frame): ${d.frozen.map(span).join(', ')}.`);
  if (d.pictureChanges.length > 0) parts.push(`Small changes in an unmoving picture at: ${d.pictureChanges.map(changeAt).join(', ')}.`);
  parts.push(...d.notes);
  return parts.join(' ');
}

/** Analysis rate: the stream's own (up to maxFps), lowered for long clips to keep within maxFrames. */
export function analysisFps(streamFps: number | undefined, duration: number, maxFps: number, maxFrames: number): number {
  const own = streamFps !== undefined && streamFps > 0 ? streamFps : 25;
  const budget = duration > 0 ? maxFrames / duration : maxFps;
  return Math.max(1, Math.min(own, maxFps, budget));
}

/**
 * Measures one video file: probe, a scan of small frames, and their summary (what the video
 * observer reports). Errors: MEDIA_NO_VIDEO, MEDIA_ZERO_LENGTH and those of the frame scan.
 */
export async function analyseVideo(path: string, opts: VideoOptions, signal: AbortSignal): Promise<VideoData> {
  const maxFps = opts.maxFps ?? 30;
  const maxFrames = opts.maxFrames ?? 3000;
  const probe = await probeMedia(path, { signal });
  const stream = probe.streams.find((s) => s.type === 'video' && s.width !== undefined && s.height !== undefined);
  if (!probe.hasVideo || stream?.width === undefined || stream.height === undefined) throw new OmnicapError('MEDIA_NO_VIDEO', 'the clip has no video stream');
  const fps = analysisFps(stream.fps, probe.durationSeconds, maxFps, maxFrames);
  const width = Math.min(opts.width ?? 160, stream.width);
  const meter = new FrameMeter();
  const frames: FrameStats[] = [];
  const scan = await scanFrames(path, { fps, width, maxFrames, threads: 1, signal }, (f) => frames.push(meter.measure(f.data, f.width, f.height, f.timeSeconds)));
  if (frames.length === 0) throw new OmnicapError('MEDIA_ZERO_LENGTH', 'the video stream decodes to 0 frames');
  const seconds = frames.length / fps;
  const duration = probe.durationSeconds > 0 ? probe.durationSeconds : seconds;
  const notes: string[] = [];
  if (frames.length === 1) notes.push('The video holds a single frame: a still picture, so nothing about motion can be said.');
  else if (seconds < duration - Math.max(1, 0.1 * duration)) {
    notes.push(frames.length >= maxFrames ? `Only the first ${s1(seconds)} s of the ${s1(duration)} s were analysed (${maxFrames} frames at most).` : `Only the first ${s1(seconds)} s of the ${s1(duration)} s could be decoded.`);
  }
  const cuts = detectCuts(frames, fps);
  const motionSpans = frames.length > 1 ? motion(frames, cuts, fps, scan.width, seconds) : [];
  const pictureChanges = smallPictureChanges(frames, cuts, motionSpans);
  return {
    width: stream.width,
    height: stream.height,
    fps: stream.fps ?? null,
    durationSeconds: Number(duration.toFixed(2)),
    analysed: { fps: Number(fps.toFixed(3)), width: scan.width, height: scan.height, frames: frames.length, seconds: Number(seconds.toFixed(2)) },
    cuts,
    scenes: scenes(frames, cuts, seconds),
    motion: motionSpans,
    black: blackStretches(frames, fps),
    frozen: frames.length > 1 ? frozenStretches(frames, cuts, fps, pictureChanges) : [],
    pictureChanges,
    notes,
  };
}

/**
 * The latest video analyses by file (path, device and inode, size and modification time), shared by the observers
 * of one pipeline: the vision-model observer takes its scene cuts from the analysis the video
 * observer already made of the clip instead of decoding the video a second time.
 */
export class VideoAnalyses {
  private readonly done = new Map<string, VideoData>();
  /** Analyses made (not taken from the kept ones). */
  runs = 0;

  constructor(readonly options: VideoOptions = {}, private readonly keep = 8) {}

  async get(path: string, signal: AbortSignal): Promise<VideoData> {
    const st = await stat(path);
    const key = [path, st.dev, st.ino, st.size, st.mtimeMs].join('\u0000');
    const hit = this.done.get(key);
    if (hit !== undefined) {
      this.done.delete(key);
      this.done.set(key, hit);
      return hit;
    }
    const data = await analyseVideo(path, this.options, signal);
    this.runs++;
    this.done.set(key, data);
    for (const old of this.done.keys()) {
      if (this.done.size <= this.keep) break;
      this.done.delete(old);
    }
    return data;
  }
}

export function videoObserver(opts: VideoOptions & { analyses?: VideoAnalyses } = {}): DisposableObserver {
  const analyses = opts.analyses ?? new VideoAnalyses(opts);
  return disposableObserver({
    name: 'video',
    modality: 'visual',
    // one decoder thread in ffmpeg, one measuring the frames here
    threads: 2,
    description:
      'Measures the picture over the whole video (it does not recognise objects or people): resolution, frame rate, duration, scene cuts with times, per scene the brightness, contrast, saturation and main colours, camera motion over time (steady, panning, shaking, fast motion), black or frozen stretches. The question is ignored.',
    async observe({ media, signal }) {
      if (media.path === undefined) throw new OmnicapError('MEDIA_NO_VIDEO', 'the video observer needs a video file');
      const data = await analyses.get(media.path, signal);
      return { answer: formatVideoAnswer(data), data };
    },
  });
}
