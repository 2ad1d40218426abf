/**
 * The sound-event observer with the real Whisper base model (scripts/setup-asr.sh) on real clips:
 * a dog bark from Debian scratch is named a dog bark, read speech (pocketsphinx-testdata) gives no
 * sound event, digital silence abstains without scoring anything. Three short clips keep it quick.
 */
import { existsSync } from 'node:fs';
import { factSheet, type DetectiveRound } from '../../src/detective';
import { defaultSileroPath, whisperAvailable } from '../../src/detective/observers';
import { soundEventObserver, type SoundEventData, type SoundEventObserver } from '../../src/detective/observers/sound-events';
import { SOUND_PRIORS } from '../../src/detective/observers/sound-priors';
import { decodeAudio } from '../../src/media';
import { SPEECH } from './media';

const DOG = '/usr/share/scratch/Media/Sounds/Animal/Dog2.wav'; // Debian scratch, one bark (0.14 s)
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

  it('a dog bark is named a dog bark, with its time, in the answer and the fact sheet', async () => {
    const { samples } = await decodeAudio(DOG);
    const { answer, data } = await observe(samples);
    expect(data.windows).toHaveLength(1);
    expect(data.windows[0].top[0].id).toBe('dog');
    expect(data.events.map((e) => e.label)).toEqual(['dog']);
    expect(data.events[0].start).toBeLessThan(0.1);
    expect(data.events[0].end).toBeLessThan(0.4);
    expect(answer).toMatch(/\[0\.\d-0\.\d s\] a sound like a dog barking \(score \d\.\d\d\)/);
    const round: DetectiveRound = { round: 1, status: 'ok', tool: 'sound_events', question: 'q', answer, data, cached: false, ms: 1 };
    expect(factSheet([round], { hasAudio: true, hasVideo: false }).lines[1]).toMatch(/^A sound like a dog barking is heard (at|from) 0\.\d/);
  }, 240_000);

  it('read speech gives no animal event (speech is the recognizer\'s)', async () => {
    const { samples } = await decodeAudio(SPEECH);
    const { data } = await observe(samples);
    expect(data.windows.length).toBeGreaterThan(0);
    expect(data.windows.every((w) => w.speech >= 0.5)).toBe(true);
    expect(data.events.filter((e) => ANIMALS.has(e.label))).toEqual([]);
    expect(data.events).toEqual([]);
  }, 240_000);

  it('digital silence abstains without scoring a window', async () => {
    const { answer, data } = await observe(new Float32Array(2 * 16000));
    expect(data.windows).toEqual([]);
    expect(data.events).toEqual([]);
    expect(answer).toBe('No sound event could be named with confidence (0 windows of sound scored; engine whisper-base, zero-shot).');
  }, 60_000);
});
