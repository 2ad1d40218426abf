/**
 * Speech / music / noise / silence segmentation: the spectral music-vs-noise classifier on synthetic
 * signals and on real recordings (audio-lena music, alsa-utils Noise.wav, freedesktop sound-theme
 * effects), and the VAD observer end to end with Silero on real clips.
 */
import { decodeAudio } from '../../src/media';
import { classifySound, soundFeatures } from '../../src/detective/sound-class';
import { vadObserver } from '../../src/detective';
import { packageRoot } from '../../src/util/paths';
import { join } from 'node:path';

const FD = '/usr/share/sounds/freedesktop/stereo';
const LENA = join(packageRoot(), 'test', 'media', 'cache', 'lena', 'lena.wav');
const NOISE = '/usr/share/sounds/alsa/Noise.wav';
const SPEECH = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav';

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

describe('classifySound on synthetic signals', () => {
  it('white noise is noise, a harmonic tone is music, silence cannot be judged', () => {
    const r = rng(1);
    const noise = Float32Array.from({ length: 16000 }, () => 0.2 * (r() * 2 - 1));
    const tone = Float32Array.from({ length: 16000 }, (_v, i) => [220, 440, 660, 880].reduce((a, f, h) => a + (0.2 / (h + 1)) * Math.sin((2 * Math.PI * f * i) / 16000), 0));
    const nf = soundFeatures(noise);
    expect(nf.flatness).toBeGreaterThan(0.5);
    expect(classifySound(nf)).toBe('noise');
    const tf = soundFeatures(tone);
    expect(tf.flatness).toBeLessThan(0.01);
    expect(tf.tonalStability).toBeGreaterThan(0.9);
    expect(classifySound(tf)).toBe('music');
    expect(classifySound(soundFeatures(new Float32Array(16000)))).toBeUndefined();
    expect(classifySound(soundFeatures(tone, 0, 1000))).toBeUndefined(); // too short
  });

  it('rejects non-Float32Array input with a typed error', () => {
    expect(() => soundFeatures([0.1, 0.2] as unknown as Float32Array)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('classifySound on real recordings', () => {
  const cases: Array<[string, 'music' | 'noise']> = [
    [LENA, 'music'],
    [NOISE, 'noise'],
    [`${FD}/audio-test-signal.oga`, 'noise'],
    [`${FD}/camera-shutter.oga`, 'noise'],
    [`${FD}/trash-empty.oga`, 'noise'],
    [`${FD}/phone-incoming-call.oga`, 'music'],
    [`${FD}/service-login.oga`, 'music'],
    [`${FD}/alarm-clock-elapsed.oga`, 'music'],
  ];
  it.each(cases)('%s is %s', async (file, want) => {
    const a = await decodeAudio(file);
    expect(classifySound(soundFeatures(a.samples))).toBe(want);
  });
});

describe('VAD observer: speech / music / noise / silence', () => {
  const vad = vadObserver();
  afterAll(async () => vad.dispose());
  const observe = async (file: string, pad = 0) => {
    const a = await decodeAudio(file);
    const samples = new Float32Array(a.samples.length + 2 * pad);
    samples.set(a.samples, pad);
    const r = await vad.observe({ media: { path: file, samples }, question: 'ignored', signal: new AbortController().signal });
    return r.data as { totals: Record<string, number>; segments: Array<{ label: string; start: number; end: number }> };
  };

  it('a timeline of real clips: silence, noise, silence, a chime, silence, speech', async () => {
    const parts = await Promise.all([NOISE, `${FD}/service-login.oga`, SPEECH].map(async (f) => (await decodeAudio(f)).samples));
    const gap = (sec: number) => new Float32Array(Math.round(sec * 16000));
    const pieces = [gap(1), parts[0], gap(0.6), parts[1], gap(0.6), parts[2]];
    const samples = new Float32Array(pieces.reduce((a, p) => a + p.length, 0));
    let off = 0;
    const starts: number[] = [];
    for (const p of pieces) {
      starts.push(off / 16000);
      samples.set(p, off);
      off += p.length;
    }
    const r = await vad.observe({ media: { path: 'timeline', samples }, question: 'ignored', signal: new AbortController().signal });
    const d = r.data as { totals: Record<string, number>; segments: Array<{ label: string; start: number; end: number }> };
    const at = (t: number) => d.segments.find((s) => s.start <= t && t < s.end)?.label;
    expect(at(0.5)).toBe('silence');
    expect(at(starts[1] + 0.7)).toBe('noise');
    expect(at(starts[3] + 1.0)).toBe('music');
    expect(at(starts[5] + 3.0)).toBe('speech');
    expect(d.totals.noise).toBeGreaterThan(0.9);
    expect(d.totals.music).toBeGreaterThan(0.8); // Silero takes the chime's onset for speech; its tail decays into silence
    expect(d.totals.speech).toBeGreaterThan(5);
    expect(d.totals.silence).toBeGreaterThan(1.5);
    expect(r.answer).toMatch(/^Speech [\d.]+ s, sound with a tonal spectrum [\d.]+ s, other sound [\d.]+ s, /);
    expect(r.answer).not.toMatch(/music/);
  });

  it('sung vocals read as speech: audio-lena is speech + music, no noise', async () => {
    const d = await observe(LENA);
    expect(d.totals.speech + d.totals.music).toBeGreaterThan(11);
    expect(d.totals.noise).toBe(0);
  });

  it('noise with silence around it', async () => {
    const d = await observe(NOISE, 16000);
    expect(d.totals.noise).toBeGreaterThan(1);
    expect(d.totals.silence).toBeGreaterThan(1.5);
    expect(d.totals.speech).toBeLessThan(0.5);
    expect(d.segments[0].label).toBe('silence');
  });

  it('speech is speech', async () => {
    const d = await observe(SPEECH);
    expect(d.totals.speech).toBeGreaterThan(4);
    expect(d.totals.music + d.totals.noise).toBeLessThan(2);
  });
});
