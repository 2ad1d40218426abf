import { computeLogMel, computeLogMelSync, frameCount } from '../../src/features';
import { tryLoadAddon } from '../../src/features/native';
import { ADDONS, defaultAddonPaths } from '../../src/native';
import { OmnicapError } from '../../src/errors';
import { readWav16 } from './golden';
import { aborted } from '../wait';

const CARDS = '/usr/share/pocketsphinx/test/data/cards/002.wav';

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(OmnicapError);
    return (e as OmnicapError).code;
  }
  return 'no error';
}

describe('computeLogMel API', () => {
  const { samples, sampleRate } = readWav16(CARDS);

  test('real 16 kHz clip: auto picks native, [128, floor(L/160)] values within the (x+4)/4 range', async () => {
    expect(sampleRate).toBe(16000);
    const r = await computeLogMel(samples);
    expect(r.backend).toBe('native');
    expect(r.frames).toBe(frameCount(samples.length));
    expect(r.data.length).toBe(128 * r.frames);
    let max = -Infinity;
    let min = Infinity;
    for (const v of r.data) {
      max = Math.max(max, v);
      min = Math.min(min, v);
    }
    // clamp to max - 8 in log10 units is 2.0 after the /4 scaling
    expect(max - min).toBeLessThanOrEqual(2 + 1e-6);
    expect(max - min).toBeGreaterThan(1);
  });

  test('native is computed off the main thread and equals the sync variant', async () => {
    const p = computeLogMel(samples, { backend: 'native' });
    expect(p).toBeInstanceOf(Promise);
    const a = await p;
    const b = computeLogMelSync(samples, { backend: 'native' });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  test('a clip split at a frame boundary gives the same first-half frames except the reflect-padded edge and the global clamp', async () => {
    const half = samples.subarray(0, 160 * 50);
    const whole = await computeLogMel(samples, { backend: 'ts' });
    const part = await computeLogMel(half, { backend: 'ts' });
    expect(part.frames).toBe(50);
    // interior frames see identical samples; they differ only where the clamp floor differs
    let same = 0;
    for (let m = 0; m < 128; m++) for (let t = 2; t < 48; t++) if (Math.abs(part.data[m * 50 + t] - whole.data[m * whole.frames + t]) < 1e-6) same++;
    expect(same).toBeGreaterThan(0.5 * 128 * 46);
  });

  test.each([
    ['a plain array', [0.1, 0.2]],
    ['a Float64Array', new Float64Array(1000)],
    ['an Int16Array', new Int16Array(1000)],
    ['undefined', undefined],
  ])('rejects %s with FEATURES_INVALID_INPUT saying what was expected', async (_label, bad) => {
    await expect(computeLogMel(bad as unknown as Float32Array, { backend: 'native' })).rejects.toMatchObject({
      code: 'FEATURES_INVALID_INPUT',
      message: expect.stringMatching(/Expected a Float32Array of 16 kHz mono PCM for samples but received/),
    });
  });

  test.each(['native', 'ts'] as const)('%s: empty, too short, non-finite, wrong rate, bad backend', async (backend) => {
    expect(await codeOf(computeLogMel(new Float32Array(0), { backend }))).toBe('FEATURES_INVALID_INPUT');
    await expect(computeLogMel(new Float32Array(159), { backend })).rejects.toThrow('Expected at least 160 samples (10 ms at 16 kHz, one mel frame) for samples but received 159');
    const nan = Float32Array.from(samples.subarray(0, 1000));
    nan[500] = NaN;
    await expect(computeLogMel(nan, { backend })).rejects.toThrow('Expected finite samples but samples[500] is NaN');
    const inf = Float32Array.from(samples.subarray(0, 1000));
    inf[3] = -Infinity;
    expect(await codeOf(computeLogMel(inf, { backend }))).toBe('FEATURES_INVALID_INPUT');
    await expect(computeLogMel(samples, { backend, sampleRate: 44100 })).rejects.toThrow('Expected 16000 (resample to 16 kHz first) for sampleRate but received number 44100');
    await expect(computeLogMel(samples, { backend: 'gpu' as unknown as 'ts' })).rejects.toThrow("Expected one of 'native', 'ts', 'auto' for backend but received string \"gpu\"");
  });

  test('exactly 160 samples (shorter than the reflect pad) gives one frame on both backends', async () => {
    const s = Float32Array.from(samples.subarray(8000, 8160));
    const a = await computeLogMel(s, { backend: 'native' });
    const b = await computeLogMel(s, { backend: 'ts' });
    expect(a.frames).toBe(1);
    expect(b.frames).toBe(1);
    for (let i = 0; i < 128; i++) expect(Math.abs(a.data[i] - b.data[i])).toBeLessThanOrEqual(1e-5);
  });

  test.each(['native', 'ts'] as const)('%s: an already-aborted signal rejects with ABORTED before any work', async (backend) => {
    const ac = new AbortController();
    ac.abort();
    expect(await codeOf(computeLogMel(samples, { backend, signal: ac.signal }))).toBe('ABORTED');
  });

  test('timeout signal maps to TIMEOUT', async () => {
    const signal = AbortSignal.timeout(0);
    await aborted(signal, 'the 0 ms timeout signal');
    expect(await codeOf(computeLogMel(samples, { backend: 'ts', signal }))).toBe('TIMEOUT');
  });
});

describe('native addon loader', () => {
  test('a missing build is NATIVE_ADDON_UNAVAILABLE saying how to build', () => {
    const r = tryLoadAddon(['/nonexistent/omnicap_features.node']);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('NATIVE_ADDON_UNAVAILABLE');
    expect(r.error.message).toContain('npm run build:native');
    expect(r.error.details).toEqual({ tried: ['/nonexistent/omnicap_features.node'] });
  });

  test('a module that is not the features addon is rejected by the interface check', () => {
    const r = tryLoadAddon([require.resolve('wav-decoder')]);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/does not match the expected interface/);
  });

  test('the default paths find the built addon', () => {
    const r = tryLoadAddon(defaultAddonPaths(ADDONS.features));
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.file).toMatch(/native\/build\/Release\/omnicap_features\.node$/);
  });
});
