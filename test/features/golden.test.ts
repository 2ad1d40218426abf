import { computeLogMel, computeLogMelSync, isNativeAvailable } from '../../src/features';
import { goldenMeta, loadClip, maxAbsDiff } from './golden';

const TOL = 1e-4;
const clips = goldenMeta().clips;

describe('log-mel vs transformers WhisperFeatureExtractor goldens', () => {
  test('golden set covers >= 3 real clips, L % 160 != 0 and silence', () => {
    expect(clips.filter((c) => c.source !== undefined).length).toBeGreaterThanOrEqual(3);
    expect(clips.some((c) => c.samples % 160 !== 0)).toBe(true);
    expect(clips.some((c) => c.name.startsWith('silence'))).toBe(true);
  });

  test('native addon is built (npm run build:native)', () => {
    expect(isNativeAvailable()).toBe(true);
  });

  describe.each(clips.map((c) => [c.name, c] as const))('%s', (_name, clip) => {
    const { input, expected } = loadClip(clip);

    test.each(['ts', 'native'] as const)('%s backend matches within 1e-4, frames = floor(L/160)', async (backend) => {
      const r = await computeLogMel(input, { backend });
      expect(r.backend).toBe(backend);
      expect(r.numMelBins).toBe(128);
      expect(r.frames).toBe(Math.floor(input.length / 160));
      expect(r.frames).toBe(clip.frames);
      expect(r.data.length).toBe(128 * r.frames);
      expect(maxAbsDiff(r.data, expected)).toBeLessThanOrEqual(TOL);
    });

    test('native and TS agree (async, sync)', async () => {
      const a = await computeLogMel(input, { backend: 'native' });
      const b = computeLogMelSync(input, { backend: 'ts' });
      const c = computeLogMelSync(input, { backend: 'native' });
      expect(maxAbsDiff(a.data, b.data)).toBeLessThanOrEqual(1e-5);
      expect(maxAbsDiff(a.data, c.data)).toBe(0);
    });
  });
});
