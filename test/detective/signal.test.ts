import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeSignal, estimateTempo, integratedLoudness, truePeakDb } from '../../src/detective';
import { signalFact } from '../../src/detective/facts';
import { NARROW_BAND_MAX_HZ, quietPartsFade } from '../../src/detective/signal';
import { decodeAudio } from '../../src/media';
import { ffmpegPath, NOISE, SPEECH } from './media';

const GONG = '/usr/share/scratch/Media/Sounds/Percussion/Gong.wav'; // Debian scratch
const GUITAR = '/usr/share/scratch/Media/Sounds/Instruments/GuitarStrum.wav';

function sine(freq: number, amp: number, seconds: number, fs: number, phase = 0): Float32Array {
  const x = new Float32Array(Math.round(seconds * fs));
  for (let i = 0; i < x.length; i++) x[i] = amp * Math.sin((2 * Math.PI * freq * i) / fs + phase);
  return x;
}

/** Deterministic white noise (LCG) with the given RMS-ish amplitude. */
function noise(n: number, amp: number, seed = 1): Float32Array {
  let s = seed;
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    x[i] = amp * (s / 2 ** 32 - 0.5) * 2;
  }
  return x;
}

describe('BS.1770 loudness (mono channel weight 1.0)', () => {
  it.each([16000, 44100, 48000])('1 kHz sine at -20 dBFS reads -23.0 LUFS at %i Hz', (fs) => {
    expect(integratedLoudness(sine(1000, 0.1, 5, fs), fs)).toBeCloseTo(-23.0, 1);
  });
  it('scales 1:1 with gain (-30 dBFS -> -33 LUFS)', () => {
    expect(integratedLoudness(sine(1000, Math.pow(10, -30 / 20), 5, 48000), 48000)).toBeCloseTo(-33.0, 1);
  });
  it('gates silence out: tone + equal length of silence reads as the tone alone (ungated would be -26)', () => {
    const fs = 16000;
    const x = new Float32Array(40 * fs);
    x.set(sine(1000, 0.1, 20, fs));
    // only the 3 blocks straddling the edge (75/50/25 % tone) pass the gates besides the tone: -0.03 LU
    expect(integratedLoudness(x, fs)).toBeCloseTo(-23.03, 1);
  });
  it('silence is -Infinity (absolute gate) and null in the report', () => {
    expect(integratedLoudness(new Float32Array(32000), 16000)).toBe(-Infinity);
    const r = analyzeSignal(new Float32Array(32000), 16000);
    expect(r.integratedLufs).toBeNull();
    expect(r.silenceRatio).toBe(1);
    expect(r.truePeakDbtp).toBeNull();
  });
});

describe('true peak (4x oversampling)', () => {
  it('finds the inter-sample peak of a fs/4 sine sampled 45 degrees off its peaks', () => {
    const x = sine(4000, 1.0, 0.5, 16000, Math.PI / 4);
    const sampleMax = Math.max(...Array.from(x, Math.abs));
    expect(20 * Math.log10(sampleMax)).toBeCloseTo(-3.01, 1);
    expect(truePeakDb(x)).toBeGreaterThan(-0.5);
    expect(truePeakDb(x)).toBeLessThan(0.3);
  });
});

describe('analyzeSignal', () => {
  it('measures the clipping ratio of a hard-clipped sine', () => {
    const x = sine(440, 2.0, 1, 16000).map((v) => Math.max(-1, Math.min(1, v)));
    const r = analyzeSignal(x, 16000);
    // |2 sin| >= 0.999 for asin(0.4995)/(pi/2) of the time: 1 - 2*asin(0.4995)/pi = 0.667
    expect(r.clippingRatio).toBeCloseTo(1 - (2 * Math.asin(0.4995)) / Math.PI, 2);
    expect(analyzeSignal(sine(440, 0.5, 1, 16000), 16000).clippingRatio).toBe(0);
  });
  it('reports silence ratio, noise floor and SNR for a tone over quiet noise', () => {
    const fs = 16000;
    const x = noise(4 * fs, 0.001);
    const tone = sine(1000, 0.3, 2, fs);
    for (let i = 0; i < tone.length; i++) x[i] += tone[i];
    const r = analyzeSignal(x, fs);
    // noise RMS 0.001/sqrt(3) -> -64.8 dBFS; tone RMS 0.3/sqrt(2) -> -13.5 dBFS
    expect(r.noiseFloorDbfs).toBeCloseTo(-64.8, 0);
    expect(r.snrDb!).toBeGreaterThan(50);
    expect(r.snrDb!).toBeLessThan(52.5);
    expect(r.silenceRatio).toBeCloseTo(0.5, 1);
  });
  it('bandwidth: a 1 kHz tone rolls off near 1 kHz, white noise near 95 % of Nyquist', () => {
    expect(analyzeSignal(sine(1000, 0.5, 1, 16000), 16000).bandwidthHz!).toBeLessThan(1300);
    const w = analyzeSignal(noise(16000, 0.5), 16000).bandwidthHz!;
    expect(w).toBeGreaterThan(7300);
    expect(w).toBeLessThan(7900);
  });
  it('tempo of a 120 BPM click train', () => {
    const fs = 16000;
    const x = new Float32Array(10 * fs);
    for (let t = 0; t < 10; t += 0.5) for (let i = 0; i < 160; i++) x[Math.round(t * fs) + i] = 0.8 * Math.exp(-i / 30) * (i % 2 ? 1 : -1);
    const { bpm } = estimateTempo(x, fs);
    expect(bpm).not.toBeNull();
    expect(bpm!).toBeGreaterThan(118);
    expect(bpm!).toBeLessThan(122);
    expect(estimateTempo(new Float32Array(fs * 10), fs).bpm).toBeNull();
  });
  it('rejects bad input with a typed error', () => {
    expect(() => analyzeSignal([1, 2] as unknown as Float32Array, 16000)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('quiet frames: fading tail or steady floor', () => {
  it('an exponentially decaying tone (10 dB/s) fades; 1 s tone bursts over steady noise do not', () => {
    const fs = 16000;
    const tone = sine(440, 0.8, 6, fs);
    for (let i = 0; i < tone.length; i++) tone[i] *= 10 ** ((-10 * (i / fs)) / 20);
    const decaying = analyzeSignal(tone, fs);
    expect(decaying.quietFrames!.decayingShare).toBeGreaterThan(0.95);
    expect(decaying.quietFrames!.slopeDbPerSecond).toBeCloseTo(-10, 0);
    expect(quietPartsFade(decaying)).toBe(true);
    const bursts = noise(6 * fs, 0.003, 7);
    const t = sine(440, 0.5, 6, fs);
    for (let i = 0; i < bursts.length; i++) if (Math.floor(i / fs) % 2 === 0) bursts[i] += t[i];
    const steady = analyzeSignal(bursts, fs);
    // only the quiet frames just after a burst ends fall (the +-250 ms slope spans the edge)
    expect(steady.quietFrames!.decayingShare).toBeLessThan(0.5);
    expect(quietPartsFade(steady)).toBe(false);
  });
});

describe('band edge', () => {
  it('white noise reaches Nyquist; a 1 kHz tone ends near 1 kHz', () => {
    expect(analyzeSignal(noise(16000, 0.3), 16000).bandEdgeHz!).toBeGreaterThan(7800);
    const tone = analyzeSignal(sine(1000, 0.5, 1, 16000), 16000).bandEdgeHz!;
    expect(tone).toBeGreaterThan(950);
    expect(tone).toBeLessThan(1300);
  });
});

describe('real clips: decays, narrow band, clipping', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'omnicap-signal-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const derive = (name: string, input: string, args: string[]): string => {
    const out = join(dir, name);
    execFileSync(ffmpegPath(), ['-y', '-loglevel', 'error', '-i', input, ...args, out]);
    return out;
  };

  it('a gong and a guitar strum die away: their quiet parts are a fading tail, not noise', async () => {
    for (const clip of [GONG, GUITAR]) {
      const r = analyzeSignal((await decodeAudio(clip)).samples, 16000);
      expect(quietPartsFade(r)).toBe(true);
      const line = signalFact(r);
      expect(line).toMatch(/with a fading tail \(its quietest parts are the sound dying away at about \d+ dB per second, not background noise\)/);
      expect(line).not.toMatch(/background noise \(|noticeable|SNR/);
    }
  });

  it('read speech with pauses keeps its noise estimate; Noise.wav is steady', async () => {
    const speech = analyzeSignal((await decodeAudio(SPEECH)).samples, 16000);
    expect(quietPartsFade(speech)).toBe(false);
    expect(signalFact(speech, true)).toMatch(/SNR about \d+ dB/);
    expect(quietPartsFade(analyzeSignal((await decodeAudio(NOISE)).samples, 16000))).toBe(false);
  });

  it('speech through an 8 kHz or telephone-band channel is narrow-band; the wideband original is not', async () => {
    const wide = analyzeSignal((await decodeAudio(SPEECH)).samples, 16000);
    expect(wide.bandEdgeHz!).toBeGreaterThan(6000);
    expect(signalFact(wide, true)).not.toContain('telephone');
    for (const [name, af] of [['8k.wav', 'aresample=8000'], ['phone.wav', 'aresample=8000,highpass=f=300,lowpass=f=3400']]) {
      const r = analyzeSignal((await decodeAudio(derive(name, SPEECH, ['-af', af, '-ar', '8000']))).samples, 16000);
      expect(r.bandEdgeHz!).toBeLessThanOrEqual(NARROW_BAND_MAX_HZ);
      expect(r.bandEdgeHz!).toBeGreaterThan(3000);
      expect(signalFact(r, true)).toMatch(/telephone-quality \(narrow-band, nothing above about [34]\.\d kHz\)/);
    }
  });

  it('speech driven 20 dB into 16-bit full scale is stated as clipped, never "no clipping"', async () => {
    const r = analyzeSignal((await decodeAudio(derive('hot.wav', SPEECH, ['-af', 'volume=20dB', '-c:a', 'pcm_s16le']))).samples, 16000);
    expect(r.clippingRatio).toBeGreaterThan(0);
    const line = signalFact(r, true);
    expect(line).toMatch(/clipped in \d+\.\d % of samples \(audible distortion\)|with some clipped peaks/);
    expect(line).not.toContain('no clipping');
  });
});

describe('real clips', () => {
  it('speech: loudness matches ffmpeg ebur128, speech band-limited, some pauses', async () => {
    const ff = spawnSync(ffmpegPath(), ['-hide_banner', '-nostats', '-i', SPEECH, '-af', 'ebur128', '-f', 'null', '-'], { encoding: 'utf8' });
    const m = /Integrated loudness:\s*I:\s*(-?[0-9.]+) LUFS/.exec(ff.stderr);
    expect(m).not.toBeNull();
    const a = await decodeAudio(SPEECH);
    const r = analyzeSignal(a.samples, 16000);
    expect(Math.abs(r.integratedLufs! - Number(m![1]))).toBeLessThan(0.3);
    expect(r.bandwidthHz!).toBeLessThan(8000);
    expect(r.snrDb!).toBeGreaterThan(15);
  });
  it('Noise.wav: broadband, little silence', async () => {
    const r = analyzeSignal((await decodeAudio(NOISE)).samples, 16000);
    expect(r.bandwidthHz!).toBeGreaterThan(4000);
    expect(r.integratedLufs!).toBeGreaterThan(-40);
  });
});
