import { canResample, decodeAudio, resample, resampledLength } from '../../src/media';
import { clip, snrDb } from './helpers';

/** Amplitude of the `freq` component of x (sampled at rate) by correlation with sin/cos, ignoring the edges. */
function toneAmplitude(x: Float32Array, rate: number, freq: number): number {
  let s = 0;
  let c = 0;
  const from = Math.floor(x.length * 0.1);
  const to = Math.floor(x.length * 0.9);
  for (let i = from; i < to; i++) {
    s += x[i] * Math.sin((2 * Math.PI * freq * i) / rate);
    c += x[i] * Math.cos((2 * Math.PI * freq * i) / rate);
  }
  return (2 * Math.hypot(s, c)) / (to - from);
}

function tone(rate: number, freq: number, seconds: number, amp = 0.5): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amp * Math.sin((2 * Math.PI * freq * i) / rate);
  return out;
}

describe('polyphase windowed-sinc resampler', () => {
  test.each([48000, 44100, 22050, 32000, 8000, 11025, 96000])('%d Hz -> 16 kHz keeps a 1 kHz tone at its level and in phase', (rate) => {
    const x = tone(rate, 1000, 1);
    const y = resample(x, rate, 16000);
    expect(y.length).toBe(resampledLength(x.length, rate, 16000));
    expect(y.length).toBe(16000);
    expect(toneAmplitude(y, 16000, 1000)).toBeCloseTo(0.5, 3);
    // zero phase: sample k of the output is the input's time k/16000
    const ideal = tone(16000, 1000, 1);
    expect(snrDb(ideal.subarray(1600, 14400), y.subarray(1600, 14400))).toBeGreaterThan(60);
  });

  test('anti-aliasing: tones above the new Nyquist are removed (>= 60 dB down)', () => {
    for (const f of [9000, 12000, 20000]) {
      const y = resample(tone(48000, f, 1), 48000, 16000);
      let alias = 0;
      for (let probe = 200; probe < 8000; probe += 200) alias = Math.max(alias, toneAmplitude(y, 16000, probe));
      expect(20 * Math.log10(alias / 0.5)).toBeLessThan(-60);
    }
    // passband edge: 7 kHz survives within 0.5 dB
    expect(20 * Math.log10(toneAmplitude(resample(tone(44100, 7000, 1), 44100, 16000), 16000, 7000) / 0.5)).toBeGreaterThan(-0.5);
  });

  test('upsampling 8 kHz -> 16 kHz leaves no image above 4 kHz', () => {
    const y = resample(tone(8000, 3000, 1), 8000, 16000);
    expect(toneAmplitude(y, 16000, 3000)).toBeCloseTo(0.5, 2);
    expect(toneAmplitude(y, 16000, 5000)).toBeLessThan(0.5e-3);
  });

  test('real music 44.1 kHz (audio-lena): matches ffmpeg swresample to > 35 dB SNR', async () => {
    const c = clip('lena-wav');
    const ours = await decodeAudio(c.path);
    const ffmpeg = await decodeAudio(c.path, { wavFastPath: false });
    expect(ours.resampler).toBe('sinc');
    expect(Math.abs(ours.samples.length - ffmpeg.samples.length)).toBeLessThanOrEqual(2);
    expect(snrDb(ffmpeg.samples.subarray(100, -100), ours.samples.subarray(100, -100))).toBeGreaterThan(35);
  });

  test('ratio support and argument errors', () => {
    expect(canResample(44100, 16000)).toBe(true);
    expect(canResample(15999, 16000)).toBe(false);
    expect(canResample(16000.5, 16000)).toBe(false);
    expect(() => resample(new Float32Array(10), 15999, 16000)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resample(new Float32Array(10), 0, 16000)).toThrow('Expected a positive integer sample rate for inRate but received number 0');
    const same = new Float32Array([1, 2, 3]);
    const copy = resample(same, 16000, 16000);
    expect(Array.from(copy)).toEqual([1, 2, 3]);
    expect(copy).not.toBe(same);
    expect(resample(new Float32Array(0), 48000, 16000)).toHaveLength(0);
  });
});
