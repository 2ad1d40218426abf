/**
 * The video observer on rendered clips with hand-labelled content (real ffmpeg, real frames):
 * scene cuts within one frame of where the sources change, motion classes (steady, panning,
 * shaking, fast), colour words on solid colours, black and frozen stretches, and bad input as
 * typed errors while the other clips go on. Then the picture part of the fact sheet, and a silent
 * video through the Detective.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToolbox, factSheet, runDetective, videoObserver, type DetectiveRound, type VideoData } from '../../src/detective';
import { analysisFps } from '../../src/detective/observers/video';
import { brightnessWord, colourName, contrastWord, saturationWord } from '../../src/detective/observers/colour';
import { cameraDirection } from '../../src/detective/observers/video-summary';
import { resolveBinary } from '../../src/media';
import { clip } from '../media/helpers';
import { makeScreencastVideo, makeTimedTextVideo } from './ocr-media';
import { ScriptedChatModel } from './scripted-llm';
import { makeBlackFrozenVideo, makeColoursVideo, makeCutOffVideo, makeCutsVideo, makeFastVideo, makeMovingVideo, makeSingleFrameVideo, SOLID_COLOURS } from './video-media';

const dir = mkdtempSync(join(tmpdir(), 'video-obs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const FRAME = 1 / 25;

async function observe(path: string): Promise<{ answer: string; data: VideoData }> {
  const r = await videoObserver().observe({ media: { path }, question: 'what does the picture show?', signal: new AbortController().signal });
  return { answer: r.answer, data: r.data as VideoData };
}

let moving: { answer: string; data: VideoData };
beforeAll(async () => {
  moving = await observe(makeMovingVideo(dir));
}, 60_000);

describe('scene cuts', () => {
  it('finds the five hand-labelled cuts of six concatenated sources within one frame, and nothing else', async () => {
    const { path, cuts } = makeCutsVideo(dir);
    expect(cuts).toEqual([2, 3.6, 5.6, 6.6, 7.4]);
    const { data, answer } = await observe(path);
    expect(data.cuts.map((c) => c.time)).toHaveLength(cuts.length);
    data.cuts.forEach((c, i) => expect(Math.abs(c.time - cuts[i])).toBeLessThanOrEqual(FRAME + 1e-6));
    // the last cut joins two crops of one image (same palette): found by the picture difference
    expect(data.cuts[4].score).toBeGreaterThan(0.3);
    expect(data.scenes.map((s) => [s.start, s.end])).toEqual([[0, 2], [2, 3.6], [3.6, 5.6], [5.6, 6.6], [6.6, 7.4], [7.4, 8]]);
    expect(data.scenes[3].keyframe.colours).toEqual([{ name: 'red', share: 1 }]);
    expect(answer).toContain('5 scene cuts, at 2.00 s, 3.60 s, 5.60 s, 6.60 s, 7.40 s.');
    expect(answer).toMatch(/^Picture measurements \(frame statistics, no object recognition\): 320x240 at 25 fps, 8\.0 s \(analysed 200 frames at 25 fps\)\./);
  });

  it('a pan, shaking and fast change are not cuts', async () => {
    expect(moving.data.cuts).toEqual([]);
    expect((await observe(makeFastVideo(dir))).data.cuts).toEqual([]);
  });

  it('the registry test video (red, green, blue segments with the Debian logo): cuts at 2 and 4 s, colours named', async () => {
    const { data } = await observe(clip('video-noaudio-mp4').path);
    expect(data.cuts.map((c) => c.time)).toEqual([2, 4]);
    expect(data.scenes.map((s) => s.keyframe.colours[0].name)).toEqual(['red', 'bright green', 'blue']);
    expect(data.scenes.every((s) => s.keyframe.colours[0].share > 0.8)).toBe(true);
    expect([data.width, data.height, data.fps, data.durationSeconds]).toEqual([320, 240, 25, 6]);
  });
});

describe('motion', () => {
  it('a 10 s shot over one image: steady 0-3 s, panning right at half a frame width per second 3-7 s, shaking 7-10 s', () => {
    const m = moving.data.motion;
    expect(m.map((s) => s.kind)).toEqual(['static', 'pan', 'shaking']);
    expect(m[0]).toMatchObject({ start: 0, end: 3, measurable: true });
    expect(m[0].movingContent).toBeUndefined();
    expect(m[1]).toMatchObject({ start: 3, end: 7, direction: 'pans right' });
    expect(m[1].speed).toBeGreaterThan(0.45);
    expect(m[1].speed).toBeLessThan(0.55);
    expect(m[2]).toMatchObject({ start: 7, end: 10 });
    expect(m[2].jitter).toBeGreaterThan(0.3);
    expect(moving.answer).toContain('Motion: 0.0-3.0 s the camera is steady and nothing moves; 3.0-7.0 s the camera pans right (0.50 frame widths/s); 7.0-10.0 s the view shakes');
    // the last still frame (3.00 s) stays on screen until the next one
    expect(moving.data.frozen).toEqual([{ start: 0, end: 3.04 }]);
  });

  it('the game of life is fast motion; a test pattern with moving parts is a steady camera with movement inside the picture', async () => {
    const fast = await observe(makeFastVideo(dir));
    expect(fast.data.motion).toHaveLength(1);
    expect(fast.data.motion[0]).toMatchObject({ kind: 'fast', start: 0, end: 3 });
    expect(fast.data.motion[0].activity).toBeGreaterThan(0.035);
    expect(fast.answer).toContain('fast motion: much of the picture changes from frame to frame');
    const pattern = (await observe(makeBlackFrozenVideo(dir))).data.motion[0];
    expect(pattern).toMatchObject({ kind: 'static', movingContent: true, start: 0 });
  });

  it('analysis rate: the stream rate up to 30 fps, fewer for long clips (at most 3000 frames), 25 fps when unknown', () => {
    expect(analysisFps(25, 10, 30, 3000)).toBe(25);
    expect(analysisFps(60, 10, 30, 3000)).toBe(30);
    expect(analysisFps(25, 600, 30, 3000)).toBe(5);
    expect(analysisFps(undefined, 0, 30, 3000)).toBe(25);
    expect(analysisFps(25, 36000, 30, 3000)).toBe(1); // at least one frame a second
  });

  it('the camera turns against the way the picture moves', () => {
    expect(cameraDirection(-4, 0.2)).toBe('pans right');
    expect(cameraDirection(3, 0)).toBe('pans left');
    expect(cameraDirection(0.1, 2)).toBe('tilts up');
    expect(cameraDirection(-2, -2)).toBe('moves down and right');
  });
});

describe('colours, brightness, black and frozen', () => {
  it('names each solid colour and says how bright and colourful it is', async () => {
    const { path, starts } = makeColoursVideo(dir);
    const { data } = await observe(path);
    expect(data.cuts.map((c) => c.time)).toEqual(starts.slice(1).map((t) => Number(t.toFixed(2))));
    expect(data.scenes.map((s) => s.keyframe.colours.map((c) => c.name))).toEqual(SOLID_COLOURS.map(([, name]) => [name]));
    const byName = Object.fromEntries(data.scenes.map((s) => [s.keyframe.colours[0].name, s.keyframe]));
    expect(brightnessWord(byName.white.brightness)).toBe('very bright');
    expect(saturationWord(byName.white.saturation)).toBe('colourless (greys only)');
    expect(saturationWord(byName.grey.saturation)).toBe('colourless (greys only)');
    expect(saturationWord(byName.red.saturation)).toBe('vividly colourful');
    expect(brightnessWord(byName['dark blue'].brightness)).toBe('dark');
    expect(contrastWord(byName.red.contrast)).toBe('flat (no contrast)');
    expect(data.black).toEqual([]); // saturated blue and dark blue are not black
  });

  it('black and frozen stretches with their times; a moving pattern is neither', async () => {
    const { data, answer } = await observe(makeBlackFrozenVideo(dir));
    expect(data.cuts.map((c) => c.time)).toEqual([1.52, 2.52, 4.52]);
    expect(data.black).toEqual([{ start: 1.52, end: 2.52 }]);
    expect(data.frozen).toEqual([{ start: 2.52, end: 4.52 }]);
    expect(data.scenes[1].keyframe).toMatchObject({ brightness: 0, colours: [{ name: 'black', share: 1 }] });
    expect(answer).toContain('Black picture: 1.5-2.5 s. Picture unchanged (still image or frozen frame): 2.5-4.5 s.');
  });

  it('a screencast: an unmoving picture whose small parts change (text covered, changed, appearing) is neither frozen nor moving', async () => {
    const { data, answer } = await observe(makeScreencastVideo(dir));
    expect(data.cuts).toEqual([]);
    expect(data.motion).toEqual([expect.objectContaining({ kind: 'static', start: 0, end: 8, smallChanges: true })]);
    expect(data.motion[0].movingContent).toBeUndefined();
    // a letter covered at 2 s and uncovered at 4 s, the value at 4.6 s, a word end covered at 5.5 s (next frame 5.6 s), a line at 6 s
    expect(data.pictureChanges).toEqual([2, 4, 4.6, 5.6, 6].map((t) => ({ start: t, end: t })));
    expect(data.frozen).toEqual([]); // the pauses between the changes are told by the changes
    expect(answer).toContain('Motion: 0.0-8.0 s the camera is steady; nothing moves, but small parts of the picture change. Small changes in an unmoving picture at: 2.0 s, 4.0 s, 4.6 s, 5.6 s, 6.0 s.');
    const sheet = factSheet([{ round: 1, status: 'ok', tool: 'video', question: 'q', answer, data, cached: false, ms: 1 }], { hasAudio: false, hasVideo: true, durationSeconds: 8 });
    expect(sheet.lines.slice(2)).toEqual([
      'From 0.0 to 8.0 s the picture is very bright, moderate-contrast and muted in colour, mostly white; the camera is steady; nothing moves, but small parts of the picture change.',
      'Small parts of the otherwise unmoving picture change at 2.0, 4.0, 4.6, 5.6 and 6.0 s.',
    ]);
  });

  it('title cards replaced on a plain dark background: steps at 10, 20 and 22 s, told as changes, not as movement or a frozen picture', async () => {
    const { data, answer } = await observe(makeTimedTextVideo(dir));
    expect(data.cuts).toEqual([]);
    expect(data.pictureChanges).toEqual([10, 20, 22].map((t) => ({ start: t, end: t })));
    expect(data.motion.some((m) => m.movingContent === true || m.kind !== 'static')).toBe(false);
    expect(data.frozen).toEqual([]);
    expect(data.scenes[0].keyframe.colours[0].name).toBe('dark blue');
    expect(answer).toContain('Small changes in an unmoving picture at: 10.0 s, 20.0 s, 22.0 s.');
  });

  it('colour words and their boundaries', () => {
    const hex = (h: number): string => colourName(h >> 16, (h >> 8) & 255, h & 255);
    expect([0xff0000, 0x00ff00, 0x0000ff, 0xffffff, 0x000000, 0x808080, 0xffa500, 0x8b4513, 0xffc0cb, 0x87ceeb, 0x008080, 0xf0e68c].map(hex)).toEqual([
      'red', 'bright green', 'blue', 'white', 'black', 'grey', 'orange', 'brown', 'pink', 'light blue', 'teal', 'beige',
    ]);
    // near-greys are greys (a #1e1e1e slide background was called dark brown); real dark browns stay brown
    expect([0x1e1e1e, 0x1f1d1e, 0x333333, 0x472712].map(hex)).toEqual(['dark grey', 'dark grey', 'dark grey', 'dark brown']);
    expect([0.24, 0.25, 0.449, 0.45, 0.699, 0.7, 0.849, 0.85].map(brightnessWord)).toEqual(['very dark', 'dark', 'dark', 'medium-bright', 'medium-bright', 'bright', 'bright', 'very bright']);
    expect([0.019, 0.02, 0.079, 0.08, 0.179, 0.18].map(contrastWord)).toEqual(['flat (no contrast)', 'low-contrast', 'low-contrast', 'moderate-contrast', 'moderate-contrast', 'high-contrast']);
    expect([0.049, 0.05, 0.149, 0.15, 0.349, 0.35].map(saturationWord)).toEqual([
      'colourless (greys only)', 'muted in colour', 'muted in colour', 'moderately colourful', 'moderately colourful', 'vividly colourful',
    ]);
  });
});

describe('bad input', () => {
  it('typed errors for corrupt, cut-off, zero-frame and audio-only input; a single frame is described as a still; the other clips go on', async () => {
    const corrupt = join(dir, 'corrupt.mp4');
    writeFileSync(corrupt, Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypisom'), Buffer.alloc(4000, 0x5a)]));
    const zeroFrames = join(dir, 'zero-frames.mkv');
    execFileSync(resolveBinary('ffmpeg'), ['-y', '-loglevel', 'error', '-f', 'lavfi', '-i', 'color=c=red:s=320x240:r=25:d=2', '-f', 'lavfi', '-i', 'sine=d=2', '-map', '0:v', '-map', '1:a', '-vf', "select='gt(n,100000)'", '-c:v', 'libx264', '-c:a', 'aac', zeroFrames]);
    const empty = join(dir, 'empty.mp4');
    writeFileSync(empty, '');
    const clips = [
      { id: 'corrupt', path: corrupt },
      { id: 'cut-off', path: makeCutOffVideo(dir, clip('video-noaudio-mp4').path) },
      { id: 'zero-frames', path: zeroFrames },
      { id: 'audio-only', path: clip('librivox-0870').path },
      { id: 'empty', path: empty },
      { id: 'one-frame', path: makeSingleFrameVideo(dir) },
      { id: 'good', path: clip('video-noaudio-mp4').path },
    ];
    const tools = createToolbox({ observers: [videoObserver()] });
    const results = await Promise.allSettled(clips.map((c) => tools.observe(c, 'video', 'q')));
    await tools.dispose();
    const codes = results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code));
    expect(codes).toEqual(['MEDIA_CORRUPT', 'MEDIA_CORRUPT', 'MEDIA_ZERO_LENGTH', 'MEDIA_NO_VIDEO', 'MEDIA_EMPTY', 'ok', 'ok']);
    const one = results[5].status === 'fulfilled' ? results[5].value : undefined;
    expect(one?.answer).toContain('The video holds a single frame: a still picture, so nothing about motion can be said.');
    expect((one?.data as VideoData).scenes[0].keyframe.colours).toEqual([{ name: 'red', share: 1 }]);
    expect((one?.data as VideoData).motion).toEqual([]);
    const good = results[6].status === 'fulfilled' ? results[6].value : undefined;
    expect(good?.answer).toContain('2 scene cuts, at 2.00 s, 4.00 s.');
  });
});

describe('the picture in the fact sheet and the caption', () => {
  const round = (n: number, tool: string, data: unknown, answer: string): DetectiveRound => ({ round: n, status: 'ok', tool, question: 'q', answer, data, cached: false, ms: 1 });

  it('a silent moving shot: size, one continuous shot, how it looks and how the view moves, the steady stretch', () => {
    const sheet = factSheet([round(1, 'video', moving.data, moving.answer)], { hasAudio: false, hasVideo: true, durationSeconds: 10 });
    expect(sheet.lines).toEqual([
      'The clip is a video without an audio stream lasting 10.0 seconds.',
      'The picture, as measured (nothing in it is recognised), is 320x240 pixels at 25 frames per second; it is one continuous shot.',
      expect.stringMatching(/^From 0\.0 to 10\.0 s the picture is medium-bright, moderate-contrast and vividly colourful, its largest colour areas green and bright green; from 0\.0 to 3\.0 s the camera is steady and nothing moves, then from 3\.0 to 7\.0 s the camera pans right \(0\.50 frame widths\/s\), then from 7\.0 to 10\.0 s the view shakes, moving back and forth with no steady direction \(jitter 0\.\d\d frame widths\/s\)\.$/),
      'The picture does not change from 0.0 to 3.0 s (a still image or a frozen frame).', // 3.04 s, said to 0.1 s
    ]);
  });

  it('a silent video through the Detective: the caption describes the picture and the clip is ok', async () => {
    const tools = createToolbox({ observers: [videoObserver()] });
    const llm = new ScriptedChatModel(['{"tool":"video","question":"What does the picture look like?"}', '{"tool":"finish","question":""}']);
    const path = join(dir, 'moving.mp4');
    const r = await runDetective({ id: 'silent', path }, llm, tools, { rounds: 3, facts: { hasAudio: false, hasVideo: true, durationSeconds: 10 } });
    await tools.dispose();
    expect(r.status).toBe('ok');
    expect(r.offered).toEqual(['video']);
    expect(r.caption).toContain('the camera pans right');
    expect(r.caption).toContain('one continuous shot');
    expect(r.caption).not.toMatch(/degraded|no text is shown/i);
  });
});
