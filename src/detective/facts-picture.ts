/**
 * The picture part of the fact sheet, from the video observer's measurements: size and frame rate,
 * the shots, per shot how bright, contrasted and colourful the picture is and how the view moves,
 * black or frozen stretches, and when small parts of an unmoving picture change. It says what was measured, never what the picture shows.
 */
import { brightnessWord, contrastWord, saturationWord } from './observers/colour';
import { describeMotion, type VideoData } from './observers/video';
import type { MotionSpan, Scene } from './observers/video-summary';
import { spanShows, type StoryEvent } from './facts-timeline';

/** Shots described one by one; the rest are counted. */
const MAX_SHOTS = 12;
/** A colour covering at least this share of a keyframe makes it "mostly" that colour. */
const MOSTLY = 0.6;

const s1 = (t: number): string => t.toFixed(1);

export function isVideoData(d: unknown): d is VideoData {
  const v = d as Partial<VideoData> | undefined;
  return Array.isArray(v?.scenes) && Array.isArray(v?.cuts) && Array.isArray(v?.motion) && typeof v?.width === 'number';
}

function list(items: readonly string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function colourPhrase(scene: Scene): string {
  const cs = scene.keyframe.colours;
  if (cs.length === 0) return '';
  if (cs[0].share >= MOSTLY) return `, mostly ${cs[0].name}`;
  return `, its largest colour areas ${list(cs.map((c) => c.name))}`;
}

function motionPhrase(spans: readonly MotionSpan[], scene: Scene): string {
  const inside = spans.filter((m) => m.end > scene.start + 1e-6 && m.start < scene.end - 1e-6);
  if (inside.length === 0) return '';
  if (inside.length === 1) return `; ${describeMotion(inside[0])}`;
  return `; ${inside.map((m) => `from ${s1(m.start)} to ${s1(m.end)} s ${describeMotion(m)}`).join(', then ')}`;
}

/** One sentence per shot: "From 0.0 to 2.0 s the picture is bright, ... , mostly red; the camera is steady ...". */
export function shotFact(scene: Scene, spans: readonly MotionSpan[], index: number, shots: number): string {
  const k = scene.keyframe;
  const look = `${brightnessWord(k.brightness)}, ${contrastWord(k.contrast)} and ${saturationWord(k.saturation)}`;
  const which = shots > 1 ? ` (shot ${index + 1})` : '';
  return `From ${s1(scene.start)} to ${s1(scene.end)} s${which} the picture is ${look}${colourPhrase(scene)}${motionPhrase(spans, scene)}.`;
}

/** The picture's format and shots in one sentence (the untimed head of the storyline). */
export function pictureFormat(d: VideoData): string {
  const fps = d.fps !== null ? ` at ${d.fps % 1 === 0 ? d.fps.toFixed(0) : d.fps.toFixed(2)} frames per second` : '';
  const cuts = d.cuts.map((c) => s1(c.time));
  const shots = d.scenes.length <= 1 ? 'it is one continuous shot' : `it has ${d.scenes.length} shots, with cuts at ${list(cuts)} s`;
  return `The picture, as measured (nothing in it is recognised), is ${d.width}x${d.height} pixels${fps}; ${shots}.`;
}

export function pictureFacts(d: VideoData): string[] {
  const lines = [pictureFormat(d)];
  d.scenes.slice(0, MAX_SHOTS).forEach((s, i) => lines.push(shotFact(s, d.motion, i, d.scenes.length)));
  if (d.scenes.length > MAX_SHOTS) lines.push(`${d.scenes.length - MAX_SHOTS} more shots follow until ${s1(d.scenes[d.scenes.length - 1].end)} s.`);
  const black = d.black.filter((b) => spanShows(b.start, b.end));
  const frozen = d.frozen.filter((b) => spanShows(b.start, b.end));
  if (black.length > 0) lines.push(`The picture is black ${list(black.map((b) => `from ${s1(b.start)} to ${s1(b.end)} s`))}.`);
  if (frozen.length > 0) lines.push(`The picture does not change ${list(frozen.map((b) => `from ${s1(b.start)} to ${s1(b.end)} s`))} (a still image or a frozen frame).`);
  const changes = d.pictureChanges ?? [];
  if (changes.length > 0) lines.push(`Small parts of the otherwise unmoving picture change at ${list(changes.map((c) => (c.start === c.end ? s1(c.start) : `${s1(c.start)}-${s1(c.end)}`)))} s.`);
  lines.push(...d.notes);
  return lines;
}

/**
 * The picture's timed facts for the storyline: each shot (a later one "cut to" at its start), black
 * and frozen stretches, and the times where small parts of an unmoving picture change.
 */
export function pictureEvents(d: VideoData, round: number, tool: string): StoryEvent[] {
  const ev = (start: number, end: number, text: string): StoryEvent => ({ start, end, stream: 'picture', text, round, tool });
  const out: StoryEvent[] = d.scenes.slice(0, MAX_SHOTS).map((s, i) => {
    if (i === 0) return ev(s.start, s.end, shotFact(s, d.motion, i, d.scenes.length));
    const k = s.keyframe;
    const look = `${brightnessWord(k.brightness)}, ${contrastWord(k.contrast)} and ${saturationWord(k.saturation)}`;
    return ev(s.start, s.end, `At ${s1(s.start)} s the picture cuts to shot ${i + 1} (until ${s1(s.end)} s): it is ${look}${colourPhrase(s)}${motionPhrase(d.motion, s)}.`);
  });
  if (d.scenes.length > MAX_SHOTS) {
    const rest = d.scenes.slice(MAX_SHOTS);
    out.push(ev(rest[0].start, rest[rest.length - 1].end, `From ${s1(rest[0].start)} s ${rest.length} more shots follow until ${s1(rest[rest.length - 1].end)} s.`));
  }
  for (const b of d.black.filter((x) => spanShows(x.start, x.end))) out.push(ev(b.start, b.end, `From ${s1(b.start)} to ${s1(b.end)} s the picture is black.`));
  for (const f of d.frozen.filter((x) => spanShows(x.start, x.end))) out.push(ev(f.start, f.end, `From ${s1(f.start)} to ${s1(f.end)} s the picture does not change (a still image or a frozen frame).`));
  for (const c of d.pictureChanges ?? []) out.push(ev(c.start, c.end, c.start === c.end ? `At ${s1(c.start)} s a small part of the otherwise unmoving picture changes.` : `From ${s1(c.start)} to ${s1(c.end)} s small parts of the otherwise unmoving picture change.`));
  return out;
}
