/**
 * From per-frame measurements (./frame-stats.ts) to the video observer's report: scene cuts, a
 * keyframe per scene, motion over time, black and frozen stretches, small changes of an unmoving
 * picture. Pure functions over the
 * measurements; every threshold is named here and validated on rendered clips in
 * test/detective/video.test.ts.
 */
import { COLOUR_NAMES } from './colour';
import type { FrameStats } from './frame-stats';

/** Cut score (0-1): half the histogram distance plus half the motion-compensated difference (saturating at 0.25). */
export function cutScore(f: FrameStats): number {
  return 0.5 * f.histDistance + 0.5 * Math.min(1, f.residual / 0.25);
}

export const VIDEO_LIMITS = {
  /** A cut scores at least this... */
  minCutScore: 0.3,
  /** ...and at least this much over the median score of the frames around it (fast motion is not a cut). */
  minCutContrast: 0.2,
  /** Frames on each side whose median score is the local level (about 0.4 s at 25 fps). */
  cutContextFrames: 10,
  /** Shortest scene (seconds): of two cuts closer than this the stronger is kept. */
  minSceneSeconds: 0.2,
  /** A change that returns to the picture before it within this many frames is a flash, not a cut. */
  flashFrames: 3,
  /** Motion is judged over windows of this length (seconds). */
  motionWindowSeconds: 1,
  /** Mean frame-to-frame difference left after undoing the camera movement, from which motion is fast. */
  fastActivity: 0.035,
  /** ...from which things move inside the picture. */
  someActivity: 0.008,
  /** Net picture movement (frame widths per second) from which the camera moves. */
  panSpeed: 0.06,
  /** Camera movement faster than this (frame widths per second) is fast motion. */
  fastPanSpeed: 1,
  /** Movement around the window's mean (frame widths per second) from which the view shakes. */
  shakeJitter: 0.2,
  /** Mean difference to the previous frame under which a frame is frozen... */
  frozenDifference: 0.002,
  /** ...and the share of its pixels that changed visibly (by 10/255), from which a small part of the picture changed. */
  smallChangeShare: 0.001,
  /** Shortest frozen stretch reported (seconds). */
  minFrozenSeconds: 1,
  /** A frame is black when this share of its pixels is black (every channel under 10 %). */
  blackShare: 0.98,
  /** Shortest black stretch reported (seconds). */
  minBlackSeconds: 0.2,
  /** Colours covering less of a keyframe than this are not named. */
  minColourShare: 0.1,
} as const;

export interface SceneCut {
  time: number;
  score: number;
}

export interface Keyframe {
  time: number;
  brightness: number;
  contrast: number;
  saturation: number;
  colours: Array<{ name: string; share: number }>;
}

export interface Scene {
  start: number;
  end: number;
  keyframe: Keyframe;
}

export type MotionKind = 'static' | 'pan' | 'shaking' | 'fast';

export interface MotionSpan {
  start: number;
  end: number;
  kind: MotionKind;
  /** Where the camera turns (opposite to the picture's movement), for 'pan'. */
  direction?: string;
  /** Net movement of the picture, frame widths per second. */
  speed: number;
  /** Movement around the mean, frame widths per second. */
  jitter: number;
  /** Mean difference left after undoing the camera movement (0-1). */
  activity: number;
  /** Static camera with things moving in the picture. */
  movingContent?: boolean;
  /** Static camera, nothing moving, but small parts of the picture change now and then (text, a cursor). */
  smallChanges?: boolean;
  /** False when the frames had too little texture to measure camera movement. */
  measurable: boolean;
}

export interface Stretch {
  start: number;
  end: number;
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function colourDistance(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i] - b[i]);
  return d / 2;
}

/** Hard cuts: the time of the first frame of each new scene, with its score. */
export function detectCuts(frames: readonly FrameStats[], fps: number): SceneCut[] {
  const L = VIDEO_LIMITS;
  const scores = frames.map((f, i) => (i === 0 ? 0 : cutScore(f)));
  const found: Array<{ index: number; score: number }> = [];
  for (let i = 1; i < frames.length; i++) {
    const s = scores[i];
    if (s < L.minCutScore) continue;
    const around = [...scores.slice(Math.max(1, i - L.cutContextFrames), i), ...scores.slice(i + 1, i + 1 + L.cutContextFrames)];
    if (s < median(around) + L.minCutContrast) continue;
    // a flash: a few frames later the picture is back to what it was before the change
    const back = frames.slice(i + 1, i + 1 + L.flashFrames).some((f) => colourDistance(f.colours, frames[i - 1].colours) < 0.3 * colourDistance(frames[i].colours, frames[i - 1].colours));
    if (back) continue;
    const last = found[found.length - 1];
    if (last !== undefined && (i - last.index) / fps < L.minSceneSeconds) {
      if (s > last.score) found[found.length - 1] = { index: i, score: s };
      continue;
    }
    found.push({ index: i, score: s });
  }
  return found.map(({ index, score }) => ({ time: round2(frames[index].time), score: round2(score) }));
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
const round3 = (x: number): number => Math.round(x * 1000) / 1000;

function keyframe(f: FrameStats): Keyframe {
  const colours = [...f.colours]
    .map((share, i) => ({ name: COLOUR_NAMES[i][0], share }))
    .filter((c) => c.share >= VIDEO_LIMITS.minColourShare)
    .sort((a, b) => b.share - a.share)
    .slice(0, 4)
    .map((c) => ({ name: c.name, share: round2(c.share) }));
  return { time: round2(f.time), brightness: round2(f.lightness), contrast: round2(f.contrast), saturation: round2(f.chroma), colours };
}

/** Scenes between cuts, each with the frame at its middle as keyframe. */
export function scenes(frames: readonly FrameStats[], cuts: readonly SceneCut[], duration: number): Scene[] {
  const bounds = [0, ...cuts.map((c) => c.time), duration];
  const out: Scene[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const [start, end] = [bounds[k], bounds[k + 1]];
    const inside = frames.filter((f) => f.time >= start - 1e-6 && f.time < end - 1e-6);
    if (inside.length === 0) continue;
    out.push({ start: round2(start), end: round2(end), keyframe: keyframe(inside[Math.floor((inside.length - 1) / 2)]) });
  }
  return out;
}

/** Where the camera turns when the picture moves by (dx, dy): the opposite way. */
export function cameraDirection(dx: number, dy: number): string {
  const h = dx < 0 ? 'right' : 'left';
  const v = dy < 0 ? 'down' : 'up';
  const ax = Math.abs(dx);
  const ay = Math.abs(dy);
  if (ay < 0.4 * ax) return `pans ${h}`;
  if (ax < 0.4 * ay) return `tilts ${v}`;
  return `moves ${v} and ${h}`;
}

/**
 * Frames whose picture changed from the one before while the frames on either side of them are
 * still: a step (text or an image replaced on an unmoving screen), not movement, which spans frames.
 */
export function stepChanges(frames: readonly FrameStats[]): Set<FrameStats> {
  const still = (i: number): boolean => i <= 0 || i >= frames.length || frames[i].difference < VIDEO_LIMITS.frozenDifference;
  return new Set(frames.filter((f, i) => i > 0 && !still(i) && f.changedShare >= VIDEO_LIMITS.smallChangeShare && still(i - 1) && still(i + 1)));
}

function judgeWindow(all: readonly FrameStats[], fps: number, width: number, steps: ReadonlySet<FrameStats>): Omit<MotionSpan, 'start' | 'end'> {
  const L = VIDEO_LIMITS;
  // a step is a change of what is shown, told as a small change, not counted as movement
  const ws = all.some((f) => !steps.has(f)) ? all.filter((f) => !steps.has(f)) : all;
  const stepped = ws.length < all.length ? { smallChanges: true } : {};
  const activity = ws.reduce((a, f) => a + f.residual, 0) / ws.length;
  const textured = ws.filter((f) => f.textured);
  if (textured.length < ws.length / 2) {
    const kind: MotionKind = activity >= L.fastActivity ? 'fast' : 'static';
    return { kind, speed: 0, jitter: 0, activity: round3(activity), measurable: false, ...(kind === 'static' ? (activity >= L.someActivity ? { movingContent: true } : stepped) : {}) };
  }
  const mx = textured.reduce((a, f) => a + f.shiftX, 0) / textured.length;
  const my = textured.reduce((a, f) => a + f.shiftY, 0) / textured.length;
  const jitterPx = textured.reduce((a, f) => a + Math.hypot(f.shiftX - mx, f.shiftY - my), 0) / textured.length;
  const speed = (Math.hypot(mx, my) * fps) / width;
  const jitter = (jitterPx * fps) / width;
  const base = { speed: round3(speed), jitter: round3(jitter), activity: round3(activity), measurable: true };
  if (activity >= L.fastActivity || speed >= L.fastPanSpeed) return { kind: 'fast', ...base };
  if (jitter >= L.shakeJitter) return { kind: 'shaking', ...base };
  if (speed >= L.panSpeed) return { kind: 'pan', direction: cameraDirection(mx, my), ...base };
  if (activity >= L.someActivity) return { kind: 'static', ...base, movingContent: true };
  return { kind: 'static', ...base, ...(ws.some((f) => f.changedShare >= L.smallChangeShare) ? { smallChanges: true } : stepped) };
}

/**
 * Motion in windows of about a second inside each scene (the frame of a cut is left out), runs of
 * the same judgement merged. Speeds are in frame widths per second of the analysed frames.
 */
export function motion(frames: readonly FrameStats[], cuts: readonly SceneCut[], fps: number, width: number, duration: number): MotionSpan[] {
  const per = Math.max(2, Math.round(VIDEO_LIMITS.motionWindowSeconds * fps));
  const bounds = [0, ...cuts.map((c) => c.time), duration];
  const steps = stepChanges(frames);
  const spans: MotionSpan[] = [];
  for (let k = 0; k + 1 < bounds.length; k++) {
    const inside = frames.filter((f) => f.time > bounds[k] + 1e-6 && f.time < bounds[k + 1] - 1e-6);
    const windows: FrameStats[][] = [];
    for (let i = 0; i < inside.length; i += per) windows.push(inside.slice(i, i + per));
    if (windows.length > 1 && windows[windows.length - 1].length < per / 2) windows[windows.length - 2].push(...(windows.pop() ?? []));
    // a frame's numbers measure the change since the frame before: its window starts there
    windows.forEach((w, i) => {
      const start = i === 0 ? bounds[k] : w[0].time - 1 / fps;
      const end = i === windows.length - 1 ? bounds[k + 1] : windows[i + 1][0].time - 1 / fps;
      spans.push({ start: round2(start), end: round2(end), ...judgeWindow(w, fps, width, steps) });
    });
  }
  return mergeSpans(spans, cuts);
}

const sameJudgement = (a: MotionSpan, b: MotionSpan): boolean => a.kind === b.kind && a.direction === b.direction && a.movingContent === b.movingContent && a.measurable === b.measurable;

/** Adjacent spans with the same judgement (not across a cut) become one, their numbers time-weighted, small changes in either kept. */
function mergeSpans(spans: readonly MotionSpan[], cuts: readonly SceneCut[]): MotionSpan[] {
  const out: MotionSpan[] = [];
  const cutAt = new Set(cuts.map((c) => c.time));
  for (const s of spans) {
    const last = out[out.length - 1];
    if (last !== undefined && sameJudgement(last, s) && !cutAt.has(s.start)) {
      const a = last.end - last.start;
      const b = s.end - s.start;
      const mix = (x: number, y: number): number => round3((x * a + y * b) / Math.max(1e-9, a + b));
      const small = last.smallChanges === true || s.smallChanges === true ? { smallChanges: true } : {};
      out[out.length - 1] = { ...last, end: s.end, speed: mix(last.speed, s.speed), jitter: mix(last.jitter, s.jitter), activity: mix(last.activity, s.activity), ...small };
    } else out.push({ ...s });
  }
  return out;
}

/** A frame that shows the same picture as the one before it (not at a cut). */
function still(frames: readonly FrameStats[], i: number, cutAt: ReadonlySet<number>): boolean {
  const f = frames[i];
  return i > 0 && !cutAt.has(round2(f.time)) && f.difference < VIDEO_LIMITS.frozenDifference && f.changedShare < VIDEO_LIMITS.smallChangeShare;
}

/**
 * Runs of frames for which `same(i)` holds (frame i continues the stretch of frame i - 1), each from
 * the time of its first frame to the time of the frame after its last, when at least `minSeconds`.
 */
function stretches(frames: readonly FrameStats[], same: (i: number) => boolean, startHere: (i: number) => boolean, minSeconds: number, fps: number): Stretch[] {
  const out: Stretch[] = [];
  let from: number | undefined;
  const close = (next: number): void => {
    if (from === undefined) return;
    const start = frames[from].time;
    const end = next < frames.length ? frames[next].time : frames[frames.length - 1].time + 1 / fps;
    if (end - start >= minSeconds - 1e-6) out.push({ start: round2(start), end: round2(end) });
    from = undefined;
  };
  for (let i = 0; i < frames.length; i++) {
    if (from !== undefined && !same(i)) close(i);
    if (from === undefined && startHere(i)) from = i;
  }
  close(frames.length);
  return out;
}

export function blackStretches(frames: readonly FrameStats[], fps: number): Stretch[] {
  const black = (i: number): boolean => frames[i].darkShare >= VIDEO_LIMITS.blackShare;
  return stretches(frames, black, black, VIDEO_LIMITS.minBlackSeconds, fps);
}

/**
 * Stretches where the picture does not change at all (a frozen frame or a still image): from a
 * frame to the last frame that repeats it, not across a cut, black pictures left out. A stretch
 * that begins or ends with one of `smallChanges` is a pause between them (a screen waiting for its
 * next update), told by those changes, and left out.
 */
export function frozenStretches(frames: readonly FrameStats[], cuts: readonly SceneCut[], fps: number, smallChanges: readonly Stretch[] = []): Stretch[] {
  const cutAt = new Set(cuts.map((c) => c.time));
  const notBlack = (i: number): boolean => frames[i].darkShare < VIDEO_LIMITS.blackShare;
  const repeats = (i: number): boolean => notBlack(i) && still(frames, i, cutAt);
  const starts = (i: number): boolean => notBlack(i) && i + 1 < frames.length && repeats(i + 1);
  const near = (a: number, b: number): boolean => Math.abs(a - b) < 0.5 / fps;
  const pause = (s: Stretch): boolean => smallChanges.some((c) => near(c.start, s.end) || near(c.end, s.start));
  return stretches(frames, repeats, starts, VIDEO_LIMITS.minFrozenSeconds, fps).filter((s) => !pause(s));
}

/**
 * Times where a small part of an otherwise unmoving picture changes (text appearing or changing, a
 * cursor): frames, not at a cut, with a visible change too small to be motion, runs of them as one.
 * A change between two still frames counts whatever its size (a slide's text replaced on a plain
 * background changes 5 % of the pixels in one frame, short of a cut): movement spans frames.
 */
export function smallPictureChanges(frames: readonly FrameStats[], cuts: readonly SceneCut[], spans: readonly MotionSpan[]): Stretch[] {
  const cutAt = new Set(cuts.map((c) => c.time));
  const calm = (t: number): boolean => spans.some((m) => m.kind === 'static' && m.smallChanges === true && t > m.start - 1e-6 && t <= m.end + 1e-6);
  const steps = stepChanges(frames);
  const changed = (i: number): boolean =>
    !cutAt.has(round2(frames[i].time)) && frames[i].changedShare >= VIDEO_LIMITS.smallChangeShare && (frames[i].residual < VIDEO_LIMITS.someActivity || steps.has(frames[i])) && calm(frames[i].time);
  const out: Stretch[] = [];
  frames.forEach((f, i) => {
    if (!changed(i)) return;
    const last = out[out.length - 1];
    if (last !== undefined && i > 0 && changed(i - 1)) last.end = round2(f.time);
    else out.push({ start: round2(f.time), end: round2(f.time) });
  });
  return out;
}
