/**
 * The labelled clip set of the Detective benchmarks (bench:detective, bench:throughput), assembled
 * from registry packages:
 *   - read speech with reference transcripts (Debian pocketsphinx-testdata, LibriVox)
 *   - the same speech band-limited to 8 kHz telephone quality (ffmpeg)
 *   - music: a song (npm audio-lena) and two loops of Scratch 1.4's sound library (Debian scratch)
 *   - sound effects whose file names state the sound: Debian sound-theme-freedesktop and Scratch's
 *     library (the report split of test/fixtures/sound-events.json), alsa-utils noise
 *   - a 36 s screencast with known on-screen text that changes over time (rendered with sharp, the
 *     LibriVox speech as its audio)
 *   - a 6 s silent video rendered with ffmpeg: a red shot, a pan over a Mandelbrot image, a blue shot
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { words } from '../src/detective';
import { resolveBinary } from '../src/media';
import { packageRoot } from '../src/util/paths';

const LIBRI = '/usr/share/pocketsphinx/test/data/librivox';
const SPEECH: Array<[string, string]> = [
  ['sense_and_sensibility_01_austen_64kb-0870.wav', 'and mister john dashwood had then leisure to consider how much there might be prudently in his power to do for them'],
  ['sense_and_sensibility_01_austen_64kb-0890.wav', 'unless to be rather cold hearted and rather selfish is to be ill disposed'],
  ['sense_and_sensibility_01_austen_64kb-0920.wav', 'had he married a more amiable woman he might have been made still more respectable than he was'],
];
const SLIDES = ['OMNICAP QUICKSTART', 'Install Models Offline', 'Whisper Transcribes Speech', 'Detective Writes Captions'];

export interface Clip {
  id: string;
  kind: string;
  path: string;
  transcript?: string;
  screenWords?: string[];
  /** The sound the file name states: a class id of src/detective/observers/sound-labels.ts (null: no particular sound event). */
  sound?: string | null;
  /** What the silent video's render holds: cut times, the hues of its solid shots, its camera movement. */
  picture?: { cuts: number[]; hues: string[]; motion: string[] };
}

const SCRATCH = '/usr/share/scratch/Media/Sounds';
const FREEDESKTOP = '/usr/share/sounds/freedesktop/stereo';

/** Sound effects: [id, path, class]. */
const EFFECTS: Array<[string, string, string | null]> = [
  ['sfx-shutter', `${FREEDESKTOP}/camera-shutter.oga`, 'camera_shutter'],
  ['sfx-bell', `${FREEDESKTOP}/complete.oga`, 'bell'],
  ['sfx-alarm', `${FREEDESKTOP}/alarm-clock-elapsed.oga`, 'clock_alarm'],
  ['sfx-laugh', `${SCRATCH}/Human/Laugh-female.wav`, 'laughing'],
  ['sfx-dog', `${SCRATCH}/Animal/Dog2.wav`, 'dog'],
  ['sfx-water', `${SCRATCH}/Effects/WaterRunning.mp3`, 'pouring_water'],
  ['sfx-clap', `${SCRATCH}/Percussion/HandClap.wav`, 'clapping'],
  ['sfx-door', `${SCRATCH}/Effects/DoorCreak.wav`, 'door_wood_creaks'],
];

/**
 * 6 s without audio at 25 fps: solid red 0-2 s (static), a crop of a Mandelbrot render panning right
 * at 160 px/s 2-4 s, solid blue 4-6 s; hard cuts at 2.0 and 4.0 s.
 */
export function silentVideo(dir: string): string {
  const big = join(dir, 'mandelbrot.png');
  ffmpeg(['-f', 'lavfi', '-i', 'mandelbrot=s=1280x720:start_scale=1.5:end_scale=1.5', '-frames:v', '1', big]);
  const out = join(dir, 'silent-video.mp4');
  ffmpeg([
    '-f', 'lavfi', '-i', 'color=c=red:s=320x240:r=25:d=2',
    '-loop', '1', '-framerate', '25', '-t', '2', '-i', big,
    '-f', 'lavfi', '-i', 'color=c=blue:s=320x240:r=25:d=2',
    '-filter_complex', "[1:v]crop=320:240:'200+160*t':240,setsar=1[p];[0:v][p][2:v]concat=n=3:v=1:a=0,format=yuv420p[v]",
    '-map', '[v]', '-c:v', 'libx264', '-preset', 'veryfast', '-an', out,
  ]);
  return out;
}

function ffmpeg(args: string[]): void {
  execFileSync(resolveBinary('ffmpeg'), ['-y', '-loglevel', 'error', ...args]);
}

/** A 36 s screencast: four slides of 9 s each (the last two shown only after 18 s), speech as audio. */
async function screencast(dir: string): Promise<string> {
  const list: string[] = [];
  for (const [i, text] of SLIDES.entries()) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="960" height="540"><rect width="960" height="540" fill="#1e1e1e"/><rect x="0" y="0" width="960" height="48" fill="#333"/><text x="24" y="32" font-family="DejaVu Sans, sans-serif" font-size="22" fill="#ddd">Slide ${i + 1} of ${SLIDES.length}</text><text x="480" y="290" font-family="DejaVu Sans, sans-serif" font-size="52" font-weight="bold" text-anchor="middle" fill="#fff">${text}</text></svg>`;
    const png = join(dir, `slide${i}.png`);
    writeFileSync(png, await sharp(Buffer.from(svg)).png().toBuffer());
    list.push(`file '${png}'\nduration 9`);
  }
  list.push(`file '${join(dir, `slide${SLIDES.length - 1}.png`)}'`);
  writeFileSync(join(dir, 'slides.txt'), list.join('\n') + '\n');
  const audio = join(dir, 'speech-concat.wav');
  ffmpeg(['-i', join(LIBRI, SPEECH[0][0]), '-i', join(LIBRI, SPEECH[1][0]), '-i', join(LIBRI, SPEECH[2][0]), '-filter_complex', '[0:a][1:a][2:a]concat=n=3:v=0:a=1,apad', '-t', '36', '-ar', '16000', audio]);
  const out = join(dir, 'screencast.mp4');
  ffmpeg(['-f', 'concat', '-safe', '0', '-i', join(dir, 'slides.txt'), '-i', audio, '-t', '36', '-r', '5', '-c:v', 'mpeg4', '-q:v', '3', '-pix_fmt', 'yuv420p', '-c:a', 'aac', out]);
  return out;
}

/** Builds the derived clips under `dir` and returns the whole set. */
export async function assemble(dir: string): Promise<Clip[]> {
  const clips: Clip[] = SPEECH.map(([f, t], i) => ({ id: `speech-${i + 1}`, kind: 'speech 16 kHz', path: join(LIBRI, f), transcript: t }));
  SPEECH.forEach(([f, t], i) => {
    const p = join(dir, `tel-${i + 1}.wav`);
    ffmpeg(['-i', join(LIBRI, f), '-af', 'highpass=f=300,lowpass=f=3400', '-ar', '8000', '-ac', '1', p]);
    clips.push({ id: `telephone-${i + 1}`, kind: 'speech 8 kHz', path: p, transcript: t });
  });
  clips.push({ id: 'music-lena', kind: 'music', path: join(packageRoot(), 'test', 'media', 'cache', 'lena', 'lena.mp3'), sound: 'singing' });
  clips.push({ id: 'music-guitar', kind: 'music', path: `${SCRATCH}/Music Loops/GuitarChords1.mp3`, sound: 'guitar' });
  clips.push({ id: 'music-xylophone', kind: 'music', path: `${SCRATCH}/Music Loops/Xylo2.mp3`, sound: 'xylophone' });
  for (const [id, path, sound] of EFFECTS) clips.push({ id, kind: 'sound effect', path, sound });
  clips.push({ id: 'noise', kind: 'noise', path: '/usr/share/sounds/alsa/Noise.wav', sound: null });
  clips.push({ id: 'silent-video', kind: 'silent video', path: silentVideo(dir), picture: { cuts: [2, 4], hues: ['red', 'blue'], motion: ['pan'] } });
  const screen = [...new Set(SLIDES.flatMap((s) => words(s)).filter((w) => w.length >= 4))];
  clips.push({ id: 'screencast', kind: 'video + text + speech', path: await screencast(dir), transcript: SPEECH.map((s) => s[1]).join(' '), screenWords: screen });
  return clips;
}

