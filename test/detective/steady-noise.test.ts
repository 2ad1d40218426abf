/**
 * Steady broadband noise is measured, not named: a window whose spectrum is broad and whose band
 * levels do not change (white, pink, brown noise; alsa-utils Noise.wav) states no sound-event class
 * (Whisper's scores call it rain or wind), and the fact sheet says "steady broadband noise (a hiss or
 * rush)" from the measurement; real running water, bubbles, a door creak, a tone and gusty noise are
 * not steady broadband noise and keep their classes.
 */
import { factSheet, modalityEvidence, type DetectiveRound } from '../../src/detective';
import { modalityReasons } from '../../src/detective/checks-modality';
import { soundEventFact } from '../../src/detective/facts';
import { storyFactText } from '../../src/detective/facts-timeline';
import { decideSoundEvents, formatSoundEventAnswer, measureWindows, SOUND_DECISION_DEFAULTS, SOUND_SCORING_DEFAULTS, soundPhrasings, type SoundEventData } from '../../src/detective/observers/sound-events';
import { measureNoise, STEADY_NOISE_MAX_SPREAD_DB, STEADY_NOISE_MIN_BROADNESS } from '../../src/detective/steady-noise';
import { decodeAudio } from '../../src/media';
import { NOISE } from './media';

const FS = 16000;
const SCRATCH = '/usr/share/scratch/Media/Sounds/Effects'; // Debian scratch

function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 4294967296;
  };
}
function whiteNoise(seconds: number, seed = 1, amp = 0.1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: Math.round(seconds * FS) }, () => amp * Math.sqrt(-2 * Math.log(r())) * Math.cos(2 * Math.PI * r()));
}
/** Pink noise: white noise through Paul Kellet's 1/f filter. */
function pinkNoise(seconds: number): Float32Array {
  const w = whiteNoise(seconds, 7, 1);
  const b = [0, 0, 0, 0, 0, 0, 0];
  return w.map((x) => {
    b[0] = 0.99886 * b[0] + x * 0.0555179; b[1] = 0.99332 * b[1] + x * 0.0750759; b[2] = 0.969 * b[2] + x * 0.153852;
    b[3] = 0.8665 * b[3] + x * 0.3104856; b[4] = 0.55 * b[4] + x * 0.5329522; b[5] = -0.7616 * b[5] - x * 0.016898;
    const y = 0.02 * (b[0] + b[1] + b[2] + b[3] + b[4] + b[5] + b[6] + x * 0.5362);
    b[6] = x * 0.115926;
    return y;
  });
}
/** Brown noise: leaky integrated white noise. */
function brownNoise(seconds: number): Float32Array {
  let acc = 0;
  return whiteNoise(seconds, 3, 0.02).map((x) => (acc = 0.995 * acc + x));
}

describe('measureNoise on synthetic signals', () => {
  it('white, pink and brown noise are steady broadband noise, white the broadest', () => {
    const white = measureNoise(whiteNoise(3));
    const pink = measureNoise(pinkNoise(3));
    const brown = measureNoise(brownNoise(3));
    expect(white).toMatchObject({ steady: true, blocks: 31 });
    expect(white.broadness).toBeGreaterThan(0.95);
    expect(pink.steady).toBe(true);
    expect(pink.broadness).toBeGreaterThan(0.4);
    expect(pink.broadness).toBeLessThan(0.6);
    expect(brown.steady).toBe(true);
    expect(brown.broadness).toBeGreaterThan(STEADY_NOISE_MIN_BROADNESS);
    for (const m of [white, pink, brown]) expect(m.spreadDb).toBeLessThan(STEADY_NOISE_MAX_SPREAD_DB);
  });

  it('a steady tone is not broadband; noise in 2 Hz gusts is not steady; 0.7 s of noise is too short to judge; digital silence is nothing', () => {
    const tone = Float32Array.from({ length: 3 * FS }, (_, i) => 0.3 * Math.sin((2 * Math.PI * 440 * i) / FS));
    expect(measureNoise(tone)).toMatchObject({ steady: false });
    expect(measureNoise(tone).broadness).toBeLessThan(0.01);
    const gusts = whiteNoise(3).map((x, i) => x * (0.55 + 0.45 * Math.sin((2 * Math.PI * 2 * i) / FS)));
    const g = measureNoise(gusts);
    expect(g.steady).toBe(false);
    expect(g.spreadDb).toBeGreaterThan(STEADY_NOISE_MAX_SPREAD_DB);
    expect(measureNoise(whiteNoise(0.7))).toMatchObject({ steady: false, blocks: 7 });
    expect(measureNoise(new Float32Array(3 * FS))).toMatchObject({ steady: false, broadness: 0 });
  });

  it('the boundaries: a window of noise with a quiet gap in it is not steady', () => {
    const gap = whiteNoise(3).map((x, i) => (i > 1.4 * FS && i < 1.7 * FS ? x * 0.01 : x));
    expect(measureNoise(gap).steady).toBe(false);
  });
});

describe('measureNoise on real recordings', () => {
  it('alsa-utils Noise.wav is steady broadband noise', async () => {
    const { samples } = await decodeAudio(NOISE);
    const m = measureNoise(samples);
    expect(m.steady).toBe(true);
    expect(m.spreadDb).toBeLessThan(1.3);
  });

  it.each([
    ['WaterRunning.mp3', 2.5],
    ['Bubbles.wav', 4],
    ['DoorCreak.wav', 4],
  ])('Scratch %s moves: band levels spread over %s dB, not steady', async (file, spread) => {
    const { samples } = await decodeAudio(`${SCRATCH}/${file}`);
    const m = measureNoise(samples);
    expect(m.steady).toBe(false);
    expect(m.spreadDb).toBeGreaterThan(spread);
  });
});

describe('a steady noise window states no class', () => {
  const phrasings = soundPhrasings();
  const prior = phrasings.map(() => -3);
  // Whisper's scores as on Noise.wav: every phrasing of "rain" far ahead
  const rainy = phrasings.map((p) => (p.label.id === 'rain' ? 0 : -3));
  const win = { start: 0, end: 3 };

  it('the rain the scores favour is stated on moving noise, withheld on steady noise (reported as measured)', () => {
    const [moving] = measureWindows(whiteNoise(3).map((x, i) => x * (0.55 + 0.45 * Math.sin((2 * Math.PI * 2 * i) / FS))), [win]);
    const [steady] = measureWindows(whiteNoise(3), [win]);
    expect(decideSoundEvents([moving], [rainy], [0], prior).events.map((e) => e.label)).toEqual(['rain']);
    const d = decideSoundEvents([steady], [rainy], [0], prior);
    expect(d.events).toEqual([]);
    expect(d.decisions[0].abstained).toBe('steady broadband noise');
    expect(d.decisions[0].top[0].id).toBe('rain'); // what Whisper thought stays in the data
    expect(d.steadyNoise).toEqual([{ start: 0, end: 3, broadness: steady.noise?.broadness, spreadDb: steady.noise?.spreadDb }]);
  });

  it('consecutive steady windows merge into one span', () => {
    const ws = measureWindows(whiteNoise(8), [{ start: 0, end: 5 }, { start: 5, end: 8 }]);
    expect(decideSoundEvents(ws, [rainy, rainy], [0, 0], prior).steadyNoise.map((n) => [n.start, n.end])).toEqual([[0, 8]]);
  });
});

describe('steady noise in the fact sheet and the checks', () => {
  const data: SoundEventData = {
    engine: 'whisper-base', events: [], windows: [], skippedWindows: 0, scoreSeconds: 1, sequences: 99,
    steadyNoise: [{ start: 0, end: 1.41, broadness: 0.2, spreadDb: 1.04 }],
    settings: { ...SOUND_DECISION_DEFAULTS, ...SOUND_SCORING_DEFAULTS, contextSeconds: 5, tileSeconds: 0, calibration: 'x' },
  };
  const round = (n: number, tool: string, d: unknown): DetectiveRound => ({ round: n, status: 'ok', tool, question: 'q', answer: `${tool} answer`, data: d, cached: false, ms: 1 });

  it('is stated as measured, never as a sound-event class', () => {
    expect(soundEventFact(data)).toBe('Steady broadband noise (a hiss or rush) from 0.0 to 1.4 s (measured as a broad spectrum that does not change, which names no source). No particular sound event could be named.');
    expect(formatSoundEventAnswer(data)).toContain('Steady broadband noise measured [0.0-1.4 s] (spectral broadness 0.20, band levels within 1.0 dB): no class is named for it.');
    const story = storyFactText(factSheet([round(1, 'sound_events', data)], { hasAudio: true, hasVideo: false, durationSeconds: 1.41 }).story);
    expect(story).toContain('[sound] From 0.0 to 1.4 s steady broadband noise (a hiss or rush) is heard (measured as a broad spectrum that does not change, which names no source).');
    expect(story).toContain('[sound] No particular sound event could be named.');
  });

  it('a caption calling it rain, water or wind is refused; a steady hiss is accepted', () => {
    const ev = modalityEvidence([round(1, 'sound_events', data)]);
    expect(modalityReasons('From 0.0 to 1.4 s a sound like water, rain or wind is heard.', ev, false)).toEqual(['names sounds no sound observation gave (no sound event was stated for them): "water", "rain", "wind"']);
    expect(modalityReasons('From 0.0 to 1.4 s a steady broadband hiss is heard.', ev, false)).toEqual([]);
  });
});
