import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { RealPowerFft } from '../../src/features/fft';
import { hertzToMelSlaney, melFilterBankDense, melFilterBankSparse, melToHertzSlaney } from '../../src/features/mel-filters';
import { periodicHann, reflectIndex } from '../../src/features/mel-ts';
import { GOLDEN_DIR, readWav16 } from './golden';

function naivePower(x: Float64Array): Float64Array {
  const n = x.length;
  const out = new Float64Array(n / 2 + 1);
  for (let k = 0; k <= n / 2; k++) {
    let re = 0;
    let im = 0;
    for (let t = 0; t < n; t++) {
      const a = (-2 * Math.PI * ((k * t) % n)) / n;
      re += x[t] * Math.cos(a);
      im += x[t] * Math.sin(a);
    }
    out[k] = re * re + im * im;
  }
  return out;
}

describe('RealPowerFft', () => {
  test.each([400, 200, 12, 30, 98])('n=%i equals the exact length-n DFT on real speech', (n) => {
    const { samples } = readWav16('/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0880.wav');
    const frame = Float64Array.from(samples.subarray(20000, 20000 + n));
    const fft = new RealPowerFft(n);
    const got = new Float64Array(fft.bins);
    fft.power(frame, got);
    const want = naivePower(frame);
    expect(fft.bins).toBe(n / 2 + 1);
    let scale = 0;
    for (const v of want) scale = Math.max(scale, v);
    expect(scale).toBeGreaterThan(0);
    for (let k = 0; k < want.length; k++) expect(Math.abs(got[k] - want[k])).toBeLessThanOrEqual(1e-10 * scale);
  });

  test('rejects odd or tiny sizes', () => {
    expect(() => new RealPowerFft(401)).toThrow(RangeError);
    expect(() => new RealPowerFft(2)).toThrow(RangeError);
  });
});

describe('Slaney mel filter bank', () => {
  test('equals transformers mel_filter_bank(201, 128, 0, 8000, 16000, slaney, slaney)', () => {
    const buf = readFileSync(path.join(GOLDEN_DIR, 'mel_filters.f64'));
    const ref = new Float64Array(buf.length / 8);
    for (let i = 0; i < ref.length; i++) ref[i] = buf.readDoubleLE(i * 8);
    const ours = melFilterBankDense();
    expect(ours.length).toBe(201 * 128);
    expect(ref.length).toBe(ours.length);
    let maxDiff = 0;
    for (let i = 0; i < ref.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ref[i] - ours[i]));
    expect(maxDiff).toBeLessThanOrEqual(1e-12);
  });

  test('sparse form reproduces the dense matrix and covers few bins per filter', () => {
    const dense = melFilterBankDense();
    const sp = melFilterBankSparse();
    const rebuilt = new Float64Array(dense.length);
    for (let m = 0; m < 128; m++) for (let k = 0; k < sp.length[m]; k++) rebuilt[(sp.start[m] + k) * 128 + m] = sp.weights[sp.offset[m] + k];
    expect(Array.from(rebuilt)).toEqual(Array.from(dense));
    expect(sp.weights.length).toBeLessThan(600);
  });

  test('mel scale: linear below 1 kHz, log above, and inverse', () => {
    expect(hertzToMelSlaney(1000)).toBeCloseTo(15, 12);
    expect(hertzToMelSlaney(200)).toBeCloseTo(3, 12);
    for (const f of [0, 133.3, 999.9, 1000, 4321, 8000]) expect(melToHertzSlaney(hertzToMelSlaney(f))).toBeCloseTo(f, 8);
  });
});

describe('window and padding', () => {
  test('periodic Hann: w[0] = 0, w[n/2] = 1, symmetric about n/2', () => {
    const w = periodicHann(400);
    expect(w[0]).toBe(0);
    expect(w[200]).toBeCloseTo(1, 15);
    for (let i = 1; i < 200; i++) expect(w[200 - i]).toBeCloseTo(w[200 + i], 14);
  });

  test('reflect index matches numpy.pad(mode="reflect")', () => {
    // np.pad([0,1,2,3,4], 6, 'reflect') -> [2 3 4 3 2 1 | 0 1 2 3 4 | 3 2 1 0 1 2]
    const want = [2, 3, 4, 3, 2, 1, 0, 1, 2, 3, 4, 3, 2, 1, 0, 1, 2];
    expect(want.map((_, i) => reflectIndex(i - 6, 5))).toEqual(want);
  });
});
