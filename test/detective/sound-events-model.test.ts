/**
 * The sound-event observer with the real Whisper base model (scripts/setup-asr.sh) on real clips of
 * Debian scratch: a laugh is named laughter, a single dog bark (which Whisper base cannot tell from a
 * cough) ranks the dog among its first three but abstains rather than state a wrong sound, read
 * speech (pocketsphinx-testdata) is transcribed as speech and not scored (no sound event), a laugh,
 * which the VAD also calls speech, is still scored, alsa Noise.wav is steady broadband noise and
 * states no class, digital silence abstains without scoring; a single hand clap, which Whisper base
 * scores as applause first, is not called applause (too short for a sustained class), and typing,
 * whose slots disagree between a gunshot and other sounds, is not called a bang.
 * The worker's label scores themselves: a bark lifts "(dog barking)" over its score on silence; a
 * subset of labels scores the same as the full list.
 */
import { existsSync } from 'node:fs';
import { factSheet, type DetectiveRound } from '../../src/detective';
import { defaultSileroPath, whisperAvailable, WhisperWorker } from '../../src/detective/observers';
import { SOUND_SCORING_DEFAULTS, soundEventObserver, type SoundEventData, type SoundEventObserver } from '../../src/detective/observers/sound-events';
import { SOUND_LABELS } from '../../src/detective/observers/sound-labels';
import { SOUND_PRIORS } from '../../src/detective/observers/sound-priors';
import { decodeAudio } from '../../src/media';
import { NOISE, SPEECH } from './media';

const DOG = '/usr/share/scratch/Media/Sounds/Animal/Dog2.wav'; // Debian scratch, one bark (0.14 s)
const LAUGH = '/usr/share/scratch/Media/Sounds/Human/Laugh-male2.wav'; // 2.9 s
const CLAP = '/usr/share/scratch/Media/Sounds/Percussion/HandClap.wav'; // one clap
const TYPING = '/usr/share/scratch/Media/Sounds/Effects/Typing.mp3';
const ANIMALS = new Set(['dog', 'rooster', 'pig', 'cow', 'frog', 'cat', 'hen', 'insects', 'sheep', 'crow', 'crickets', 'chirping_birds', 'horse', 'duck', 'goose', 'owl', 'howl']);

const installed = whisperAvailable() && existsSync(defaultSileroPath()) && Object.keys(SOUND_PRIORS.base).length > 0;
if (!installed) console.warn('sound-events-model.test: Whisper or Silero VAD is not installed (run `bash scripts/setup-asr.sh`); the real-model tests are skipped');
const real = installed ? describe : describe.skip;

real('sound events from Whisper base on real clips', () => {
  let observer: SoundEventObserver;
  beforeAll(() => {
    observer = soundEventObserver();
  });
  afterAll(() => observer.dispose());
  const observe = async (samples: Float32Array): Promise<{ answer: string; data: SoundEventData }> => {
    const r = await observer.observe({ media: { samples }, question: 'What sounds are heard?', signal: new AbortController().signal });
    return { answer: r.answer, data: r.data as SoundEventData };
  };

  it('a laugh is named laughter, with its time, in the answer and the fact sheet', async () => {
    const { samples } = await decodeAudio(LAUGH);
    const { answer, data } = await observe(samples);
    expect(data.windows).toHaveLength(1);
    // two stages: one phrasing of every class, then the other two of the shortlist
    expect(data.sequences).toBe(SOUND_LABELS.length + 2 * SOUND_SCORING_DEFAULTS.shortlist);
    expect(data.windows[0].top[0].id).toBe('laughing');
    expect(data.events.map((e) => [e.kind, e.label])).toEqual([['class', 'laughing']]);
    expect(data.events[0].start).toBeLessThan(0.2);
    expect(data.events[0].end).toBeGreaterThan(2.5);
    expect(answer).toMatch(/\[0\.\d-[23]\.\d s\] a sound like laughter \(score \d\.\d\d\)/);
    const round: DetectiveRound = { round: 1, status: 'ok', tool: 'sound_events', question: 'q', answer, data, cached: false, ms: 1 };
    expect(factSheet([round], { hasAudio: true, hasVideo: false }).lines[1]).toMatch(/^A sound like laughter is heard from 0\.\d to [23]\.\d s\.$/);
  }, 240_000);

  it('a single bark ranks the dog among the first three but, unsure, states nothing', async () => {
    const { samples } = await decodeAudio(DOG);
    const { answer, data } = await observe(samples);
    expect(data.windows).toHaveLength(1);
    expect(data.windows[0].top.map((c) => c.id)).toContain('dog');
    expect(data.events).toEqual([]);
    expect(data.windows[0].abstained).toBe('phrasings disagree');
    expect(answer).not.toMatch(/dog|cough/);
  }, 240_000);

  it('a single clap is not called applause; typing is not called a bang', async () => {
    const clap = await observe((await decodeAudio(CLAP)).samples);
    expect(clap.data.windows).toHaveLength(1);
    expect(clap.data.windows[0].end - clap.data.windows[0].start).toBeLessThan(1);
    expect(clap.data.windows[0].top.map((c) => c.id)).not.toContain('applause');
    expect(clap.data.events.map((e) => e.label)).not.toContain('applause');
    const typing = await observe((await decodeAudio(TYPING)).samples);
    expect(typing.data.windows.length).toBeGreaterThan(0);
    expect(typing.data.events.filter((e) => e.label === 'bang' || e.label === 'gunshot' || e.label === 'explosion')).toEqual([]);
  }, 240_000);

  it('alsa Noise.wav (white noise) is measured steady broadband noise: no water, rain or wind is stated', async () => {
    const { samples } = await decodeAudio(NOISE);
    const { answer, data } = await observe(samples);
    expect(data.events).toEqual([]);
    expect(data.windows.map((w) => w.abstained)).toEqual(['steady broadband noise']);
    expect(data.steadyNoise?.map((n) => [n.start, n.end])).toEqual([[0, 1.41]]);
    expect(answer).toContain('Steady broadband noise measured [0.0-1.4 s]');
    expect(answer).not.toMatch(/\b(?:water|rain|wind)\b/);
    const round: DetectiveRound = { round: 1, status: 'ok', tool: 'sound_events', question: 'q', answer, data, cached: false, ms: 1 };
    expect(factSheet([round], { hasAudio: true, hasVideo: false }).lines[1]).toMatch(/^Steady broadband noise \(a hiss or rush\) from 0\.0 to 1\.4 s \(measured/);
  }, 240_000);

  it('read speech gives no sound event: its windows are transcribed as speech and not scored (speech is the recognizer\'s)', async () => {
    const { samples } = await decodeAudio(SPEECH);
    const { answer, data } = await observe(samples);
    expect(data.windows.length).toBeGreaterThan(0);
    expect(data.windows.every((w) => w.speech >= 0.5)).toBe(true);
    expect(data.windows.every((w) => w.abstained === 'speech' && w.top.length === 0)).toBe(true);
    expect(data.windows.map((w) => w.transcript ?? '').join(' ').toLowerCase().replace(/[^a-z]+/g, ' ')).toContain('ill disposed young man');
    expect(data.sequences).toBe(0);
    expect(data.events.filter((e) => ANIMALS.has(e.label))).toEqual([]);
    expect(data.events).toEqual([]);
    expect(answer).toMatch(/^No sound event could be named with confidence \(0 windows of sound scored, \d+ of speech only not;/);
  }, 240_000);

  it('with transcribeSpeech off, the same speech windows are scored (and still state nothing)', async () => {
    const plain = soundEventObserver({ transcribeSpeech: false });
    try {
      const { samples } = await decodeAudio(SPEECH);
      const r = await plain.observe({ media: { samples }, question: 'q', signal: new AbortController().signal });
      const data = r.data as SoundEventData;
      expect(data.sequences).toBeGreaterThan(SOUND_LABELS.length);
      expect(data.windows.every((w) => w.transcript === undefined && w.top.length > 0)).toBe(true);
      expect(data.events).toEqual([]);
    } finally {
      await plain.dispose();
    }
  }, 240_000);

  it('the worker scores labels per window and on non-informative inputs', async () => {
    const worker = new WhisperWorker();
    try {
      const { samples } = await decodeAudio(DOG);
      const r = await worker.scoreLabels(samples, [[0, 0.14]], [' (dog barking)', ' (piano playing)'], { contextSeconds: 5, nulls: true });
      expect(r.scores).toHaveLength(1);
      expect(r.tokenCounts).toEqual([4, 4]);
      expect(r.encodedWindows).toBe(1);
      expect(Object.keys(r.nullScores ?? {}).sort()).toEqual(['pink', 'silence', 'white']);
      const silence = r.nullScores!.silence;
      // the bark lifts the dog label well over its score on silence; the piano label is not lifted
      expect(r.scores[0][0] - silence[0]).toBeGreaterThan(1);
      expect(r.scores[0][1] - silence[1]).toBeLessThan(0.5);
      // a subset scores only the labels asked for, in the subset's order, with the same values
      const sub = await worker.scoreLabels(samples, [[0, 0.14]], [' (dog barking)', ' (piano playing)'], { contextSeconds: 5, subsets: [[1]] });
      expect(sub.scores[0]).toHaveLength(1);
      expect(sub.scores[0][0]).toBeCloseTo(r.scores[0][1], 2);
      // the same window again (the observer's second stage) reuses its encoder output; another window is encoded
      expect(sub.encodedWindows).toBe(0);
      const other = await worker.scoreLabels(samples, [[0, 0.14], [0.02, 0.14]], [' (dog barking)'], { contextSeconds: 5 });
      expect(other.encodedWindows).toBe(1);
      expect(other.scores[0][0]).toBeCloseTo(r.scores[0][0], 3);
    } finally {
      await worker.dispose();
    }
  }, 240_000);

  it('digital silence abstains without scoring a window', async () => {
    const { answer, data } = await observe(new Float32Array(2 * 16000));
    expect(data.windows).toEqual([]);
    expect(data.events).toEqual([]);
    expect(answer).toBe('No sound event could be named with confidence (0 windows of sound scored; engine whisper-base, zero-shot).');
  }, 60_000);
});
