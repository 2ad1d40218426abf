/**
 * The sound-event observer: which stretches of a clip it scores, how phrasing scores become a
 * stated event or an abstention (every phrasing slot must agree, speech windows need a larger
 * margin, speech labels are never events), the hedged fact-sheet line, and the caption check that a
 * named sound needs sound evidence. The real-model tests are in sound-events-model.test.ts.
 */
import { checkCaption, factSheet, storyFactText, type DetectiveRound } from '../../src/detective';
import { soundEventFact } from '../../src/detective/facts';
import { ungroundedSounds } from '../../src/detective/checks';
import {
  classScores,
  decideSoundEvents,
  formatSoundEventAnswer,
  markTranscribedSpeech,
  scoreSoundWindows,
  shortlistClasses,
  SOUND_DECISION_DEFAULTS,
  SOUND_SCORING_DEFAULTS,
  soundPhrasings,
  soundWindows,
  speechShares,
  type LabelScorer,
  type SoundEventData,
  type SoundWindow,
} from '../../src/detective/observers/sound-events';
import { SOUND_LABELS, soundStem, soundVocabulary } from '../../src/detective/observers/sound-labels';
import type { WhisperResult, WhisperSegment } from '../../src/detective/observers/whisper';

const FS = 16000;
const phrasings = soundPhrasings();
const prior = phrasings.map(() => -3);

/** Raw scores: every phrasing at the prior, the given classes' phrasings raised by `lift` (per slot when an array). */
function raw(lifts: Record<string, number | number[]>): number[] {
  return phrasings.map((p) => {
    const l = lifts[p.label.id];
    if (l === undefined) return -3;
    return -3 + (Array.isArray(l) ? l[p.slot] : l);
  });
}

function burst(samples: Float32Array, start: number, seconds: number, amp: number): void {
  for (let i = Math.round(start * FS); i < Math.min(samples.length, Math.round((start + seconds) * FS)); i++) samples[i] = amp * Math.sin((2 * Math.PI * 600 * i) / FS);
}

describe('the vocabulary', () => {
  it('holds the 50 ESC-50 classes and common AudioSet ones, three subtitle-style phrasings each', () => {
    expect(SOUND_LABELS.length).toBeGreaterThanOrEqual(85);
    for (const id of ['dog', 'rooster', 'rain', 'crying_baby', 'door_wood_creaks', 'church_bells', 'hand_saw', 'applause', 'telephone_ringing', 'gunshot']) expect(SOUND_LABELS.some((l) => l.id === id)).toBe(true);
    for (const l of SOUND_LABELS) {
      expect(l.phrasings).toHaveLength(3);
      for (const p of l.phrasings) expect(p).toMatch(/^[([].+[)\]]$/);
    }
    expect(new Set(SOUND_LABELS.map((l) => l.id)).size).toBe(SOUND_LABELS.length);
    expect(phrasings[0]).toMatchObject({ text: ' (dog barking)', slot: 0 });
  });
  it('stems match word forms; the sound words map to their classes, speech words are left out', () => {
    expect(['barking', 'barks', 'barked', 'bark'].map(soundStem)).toEqual(['bark', 'bark', 'bark', 'bark']);
    expect(soundStem('cries')).toBe(soundStem('cry'));
    expect(soundStem('clapping')).toBe(soundStem('claps'));
    const vocab = soundVocabulary();
    expect([...(vocab.get('dog') ?? [])]).toEqual(expect.arrayContaining(['dog', 'howl']));
    expect(vocab.get(soundStem('siren'))).toEqual(new Set(['siren']));
    expect(vocab.has('talk')).toBe(false);
    expect(vocab.has('speak')).toBe(false);
  });
});

describe('windows of sound', () => {
  it('digital silence has none', () => {
    expect(soundWindows(new Float32Array(3 * FS))).toEqual({ windows: [], skipped: 0 });
  });
  it('a 0.2 s burst at 1.0 s gives one window around it; 12 s of sound gives context-long pieces', () => {
    const x = new Float32Array(3 * FS);
    burst(x, 1, 0.2, 0.5);
    const { windows } = soundWindows(x);
    expect(windows).toHaveLength(1);
    expect(windows[0].start).toBeCloseTo(0.95, 1);
    expect(windows[0].end).toBeCloseTo(1.25, 1);
    const long = new Float32Array(12 * FS);
    burst(long, 0, 12, 0.3);
    expect(soundWindows(long).windows.map((w) => [w.start, w.end])).toEqual([[0, 5], [5, 10], [10, 12]]);
  });
  it('over the cap, the loudest windows are kept and the rest counted', () => {
    const x = new Float32Array(10 * FS);
    for (let k = 0; k < 5; k++) burst(x, 0.5 + 2 * k, 0.3, k === 3 ? 0.9 : 0.2);
    const r = soundWindows(x, 5, 2);
    expect(r.skipped).toBe(3);
    expect(r.windows.some((w) => w.start < 6.5 && w.end > 6.5)).toBe(true);
  });
  it('speech share of a window from Silero chunk probabilities', () => {
    const probs = new Float32Array(100).fill(0.1);
    probs.fill(0.9, 0, 50); // the first 1.6 s
    expect(speechShares(probs, [{ start: 0, end: 1.6 }, { start: 1.6, end: 3.2 }])).toEqual([1, 0]);
  });
});

describe('two-stage scoring', () => {
  const windows = [{ start: 0, end: 1 }, { start: 2, end: 3 }];
  /** A scorer over fixed raw rows that records what it was asked for. */
  function recording(rows: number[][]): { scorer: LabelScorer; asked: Array<Array<readonly number[]>> } {
    const asked: Array<Array<readonly number[]>> = [];
    const scorer: LabelScorer = async (ws, labels, subsets) => {
      expect(labels).toEqual(phrasings.map((p) => p.text));
      const s = subsets ?? ws.map(() => labels.map((_, i) => i));
      asked.push([...s]);
      return { scores: s.map((idx, w) => idx.map((i) => rows[w][i])), seconds: 0.5 };
    };
    return { scorer, asked };
  }
  it('the first stage scores one phrasing per class; the second the other phrasings of the shortlist only', async () => {
    const rows = [raw({ dog: [2, 1.8, 1.6], cat: [1.5, 0, 0], owl: [1, 1, 1] }), raw({ bell: [1, 2, 2] })];
    const { scorer, asked } = recording(rows);
    const r = await scoreSoundWindows(scorer, windows, prior, { shortlist: 2, firstSlot: 0 });
    expect(asked).toHaveLength(2);
    expect(asked[0][0].map((i) => phrasings[i].slot)).toEqual(SOUND_LABELS.map(() => 0));
    // window 0: dog and cat lead the first stage, so only their slots 1 and 2 are scored next
    expect(asked[1][0].map((i) => phrasings[i].text)).toEqual([' [dog barks]', ' (barking)', ' [cat meows]', ' (meowing)']);
    expect(asked[1][1].map((i) => phrasings[i].label.id)).toContain('bell');
    expect(r.sequences).toBe(2 * SOUND_LABELS.length + 8);
    expect(r.seconds).toBe(1);
    expect(r.raw[0].filter((v) => v !== null)).toHaveLength(SOUND_LABELS.length + 4);
    // the shortlist ranks before the rest; dog's mean over its three phrasings wins, agreed by every slot
    const { ranked, agreed } = classScores(r.raw[0], prior);
    expect(ranked.slice(0, 3).map((c) => [c.id, c.score])).toEqual([['dog', 1.8], ['cat', 0.5], ['owl', 1]]);
    expect(agreed).toBe(true);
    expect(shortlistClasses(r.raw[1], prior, 1, 0)).toEqual(['bell']);
  });
  it('shortlist 0 scores every phrasing in one request, as the one-stage observer did', async () => {
    const { scorer, asked } = recording([raw({ dog: 2 }), raw({})]);
    const r = await scoreSoundWindows(scorer, windows, prior, { shortlist: 0 });
    expect(asked).toHaveLength(1);
    expect(asked[0][0]).toHaveLength(phrasings.length);
    expect(r.raw[0].every((v) => v !== null)).toBe(true);
    expect(r.sequences).toBe(2 * phrasings.length);
  });
  it('windows of speech only are not scored when skipSpeechShare says so; they abstain as speech with no classes', async () => {
    const { scorer, asked } = recording([raw({ dog: 2 }), raw({ dog: 2 })]);
    const r = await scoreSoundWindows(scorer, windows, prior, { shortlist: 2, skipSpeechShare: 0.9 }, [0.2, 0.95]);
    expect(asked.map((a) => a.length)).toEqual([1, 1]);
    expect(r.raw[1].every((v) => v === null)).toBe(true);
    const { decisions, events } = decideSoundEvents(windows, r.raw, [0.2, 0.95], prior);
    expect(decisions.map((d) => [d.stated?.label ?? d.abstained, d.top.length])).toEqual([['dog', 3], ['speech', 0]]);
    expect(events.map((e) => [e.label, e.start, e.end])).toEqual([['dog', 0, 1]]);
    const a = formatSoundEventAnswer({ engine: 'whisper-base', events, windows: decisions, skippedWindows: 0, scoreSeconds: r.seconds, sequences: r.sequences, settings: { ...SOUND_DECISION_DEFAULTS, ...SOUND_SCORING_DEFAULTS, contextSeconds: 5, tileSeconds: 0, calibration: 'x' } });
    expect(a).toContain('1 window of sound scored, 1 of speech only not');
    expect(a).toContain('[0.0-1.0 s] a sound like a dog barking');
    const none = await scoreSoundWindows(scorer, windows, prior, { skipSpeechShare: 0.9 }, [0.95, 1]);
    expect(none).toEqual({ raw: [phrasings.map(() => null), phrasings.map(() => null)], sequences: 0, seconds: 0 });
  });
  it('the default shortlist costs well under half of the one-stage sequences', () => {
    const perWindow = SOUND_LABELS.length + 2 * SOUND_SCORING_DEFAULTS.shortlist;
    expect(perWindow).toBeLessThan(phrasings.length / 2);
  });
});

describe('deciding events', () => {
  it('class scores are phrasing means over the prior; agreement needs every slot to rank the class first', () => {
    const { ranked, agreed } = classScores(raw({ dog: [2, 1.5, 1], cat: 0.5 }), prior);
    expect(ranked[0]).toEqual({ id: 'dog', words: 'a dog barking', score: 1.5 });
    expect(ranked[1].id).toBe('cat');
    expect(agreed).toBe(true);
    expect(classScores(raw({ dog: [2, 2, 0], cat: [0, 0, 1.5] }), prior).agreed).toBe(false);
  });
  it('states an agreed class over the margin, abstains below it or when the slots disagree', () => {
    const windows = [{ start: 0, end: 0.4 }, { start: 1, end: 2 }, { start: 3, end: 4 }];
    const { events, decisions } = decideSoundEvents(windows, [raw({ dog: 1.6, cat: 0.4 }), raw({ cat: [1.5, 1.5, 0], trumpet: [0, 0, 1.8] }), raw({ bell: 0.6 })], [0, 0, 0], prior);
    expect(events).toEqual([{ kind: 'class', label: 'dog', words: 'a dog barking', start: 0, end: 0.4, score: 1.6, alternatives: expect.arrayContaining([expect.objectContaining({ id: 'cat', score: 0.4 })]) }]);
    expect(decisions.map((d) => d.stated?.label ?? d.abstained)).toEqual(['dog', 'phrasings disagree', 'below margin']);
    expect(decisions[0].stated).toEqual({ kind: 'class', label: 'dog' });
  });
  it('when no class is sure but the two best share a family, the family is stated', () => {
    const w = [{ start: 0, end: 1 }];
    // cat and owl (both animals) split the phrasing slots: no class, but an animal call
    const split = decideSoundEvents(w, [raw({ cat: [1.6, 1.6, 0.4], owl: [0.4, 0.4, 1.7] })], [0], prior);
    expect(split.events).toEqual([expect.objectContaining({ kind: 'family', label: 'animal', words: 'an animal call', score: 1.2 })]);
    expect(split.events[0].alternatives.map((a) => a.id)).toEqual(['cat', 'owl', expect.any(String)]);
    // a cat and a trumpet disagreeing: no family either
    expect(decideSoundEvents(w, [raw({ cat: [1.6, 1.6, 0.4], trumpet: [0.4, 0.4, 1.7] })], [0], prior).decisions[0].abstained).toBe('phrasings disagree');
    // a family needs its margin too
    expect(decideSoundEvents(w, [raw({ cat: [0.9, 0.9, 0.3], owl: [0.3, 0.3, 1] })], [0], prior).events).toEqual([]);
  });
  it('speech windows need the larger margin; a speech label is never an event', () => {
    const w = [{ start: 0, end: 2 }];
    const mid = (SOUND_DECISION_DEFAULTS.minScore + SOUND_DECISION_DEFAULTS.minSpeechScore) / 2;
    expect(decideSoundEvents(w, [raw({ dog: mid })], [0.9], prior).decisions[0].abstained).toBe('speech');
    expect(decideSoundEvents(w, [raw({ dog: mid })], [0.1], prior).events[0].label).toBe('dog');
    expect(decideSoundEvents(w, [raw({ dog: SOUND_DECISION_DEFAULTS.minSpeechScore + 0.1 })], [0.9], prior).events[0].label).toBe('dog');
    expect(decideSoundEvents(w, [raw({ speech: 5 })], [0], prior).decisions[0].abstained).toBe('speech');
  });
  it('with a class margin, a class too close to the runner-up gives way to their shared family', () => {
    const w = [{ start: 0, end: 1 }];
    const close = raw({ cat: 1.5, owl: 1.3 });
    expect(decideSoundEvents(w, [close], [0], prior, { minClassMargin: 0 }).events[0]).toMatchObject({ kind: 'class', label: 'cat' });
    expect(SOUND_DECISION_DEFAULTS.minClassMargin).toBe(0.5);
    expect(decideSoundEvents(w, [close], [0], prior).events[0]).toMatchObject({ kind: 'family', label: 'animal' });
    expect(decideSoundEvents(w, [close], [0], prior, { minClassMargin: 0.5 }).events[0]).toMatchObject({ kind: 'family', label: 'animal', words: 'an animal call' });
    expect(decideSoundEvents(w, [raw({ cat: 1.5, trumpet: 1.3 })], [0], prior, { minClassMargin: 0.5 }).decisions[0].abstained).toBe('runner-up too close');
  });
  it('a sustained class (applause, typing, an engine) is not considered in a window too short to hold it', () => {
    const clap = [{ start: 0.4, end: 0.7 }];
    const scores = [raw({ applause: 2, clapping: 1.4, finger_snap: 0.2 })];
    // without the rule the single clap is called applause; with it, the clap
    expect(decideSoundEvents(clap, scores, [0], prior, { minSustainedSeconds: 0 }).events[0]).toMatchObject({ kind: 'class', label: 'applause' });
    const ruled = decideSoundEvents(clap, scores, [0], prior);
    expect(SOUND_DECISION_DEFAULTS.minSustainedSeconds).toBe(1);
    expect(ruled.events[0]).toMatchObject({ kind: 'class', label: 'clapping', words: 'clapping', score: 1.4 });
    expect(ruled.decisions[0].top.map((c) => c.id)).not.toContain('applause');
    // a window long enough for applause keeps it
    expect(decideSoundEvents([{ start: 0, end: 3 }], scores, [0], prior, { minSustainedSeconds: 1 }).events[0].label).toBe('applause');
    expect(SOUND_LABELS.filter((l) => l.sustained === true).map((l) => l.id)).toEqual(expect.arrayContaining(['applause', 'keyboard_typing', 'engine', 'rain', 'footsteps']));
    expect(SOUND_LABELS.filter((l) => l.sustained === true).map((l) => l.id)).not.toEqual(expect.arrayContaining(['clapping']));
  });
  it('with family agreement, a family is stated only when every slot\'s best class is of it', () => {
    const w = [{ start: 0, end: 1 }];
    // bell and beep (alarms) lead the mean, but the third slot's best class is the xylophone: no alarm
    const mixed = raw({ bell: [1.6, 1.5, 0.9], beep: [1.3, 1.4, 0.8], xylophone: [0.2, 0.2, 1.2] });
    expect(decideSoundEvents(w, [mixed], [0], prior, { familyAgreement: false }).events[0]).toMatchObject({ kind: 'family', label: 'alarm' });
    expect(decideSoundEvents(w, [mixed], [0], prior).decisions[0].abstained).toBe('phrasings disagree');
    // cat and owl split the slots but both are animals: the family stands
    expect(decideSoundEvents(w, [raw({ cat: [1.6, 1.6, 0.4], owl: [0.4, 0.4, 1.7] })], [0], prior, { familyAgreement: true }).events[0]).toMatchObject({ kind: 'family', label: 'animal' });
    expect(classScores(mixed, prior).slotTops).toEqual(['bell', 'bell', 'xylophone']);
  });
  it('an unstated family is never stated as such, though its classes can be', () => {
    const w = [{ start: 0, end: 2 }];
    // rain and pouring water close together: "water, rain or wind" unless the water family is unstated
    const noise = raw({ rain: 1.8, pouring_water: 1.7, wind: 1.6 });
    expect(decideSoundEvents(w, [noise], [0], prior, { unstatedFamilies: ['human'] }).events[0]).toMatchObject({ kind: 'family', label: 'water', words: 'water, rain or wind' });
    expect(decideSoundEvents(w, [noise], [0], prior).decisions[0].abstained).toBe('runner-up too close');
    expect(SOUND_DECISION_DEFAULTS.unstatedFamilies).toEqual(['human', 'water']);
    expect(decideSoundEvents(w, [raw({ pouring_water: 1.8, rain: 0.9 })], [0], prior, { unstatedFamilies: ['human', 'water'] }).events[0]).toMatchObject({ kind: 'class', label: 'pouring_water' });
  });
  it('without parentCompetes, a class is not held back by its broader class (drums over music)', () => {
    const w = [{ start: 0, end: 4 }];
    const drums = raw({ drum: 1.3, music: 1.0, keyboard_typing: 0.8 });
    expect(decideSoundEvents(w, [drums], [0], prior, { parentCompetes: true }).events[0]).toMatchObject({ kind: 'family', label: 'music' });
    expect(decideSoundEvents(w, [drums], [0], prior).events[0]).toMatchObject({ kind: 'class', label: 'drum', words: 'drums' });
    // another class close by still holds it back
    expect(decideSoundEvents(w, [raw({ drum: 1.3, music: 1.0, guitar: 1.1 })], [0], prior, { parentCompetes: false }).events[0]).toMatchObject({ kind: 'family', label: 'music' });
  });
  it('consecutive windows of one class merge into one event with the stronger score', () => {
    const { events } = decideSoundEvents([{ start: 0, end: 5 }, { start: 5, end: 8 }, { start: 9, end: 10.5 }], [raw({ rain: 1.2 }), raw({ rain: 1.9 }), raw({ rain: 1.4 })], [0, 0, 0], prior);
    expect(events.map((e) => [e.label, e.start, e.end, e.score])).toEqual([['rain', 0, 8, 1.9], ['rain', 9, 10.5, 1.4]]);
  });
});

describe('what the caption is told', () => {
  const data = (events: SoundEventData['events']): SoundEventData => ({
    engine: 'whisper-base', events, windows: [], skippedWindows: 0, scoreSeconds: 1, sequences: 99, settings: { ...SOUND_DECISION_DEFAULTS, ...SOUND_SCORING_DEFAULTS, contextSeconds: 5, tileSeconds: 0, calibration: 'x' },
  });
  const dog = { kind: 'class' as const, label: 'dog', words: 'a dog barking', start: 0.2, end: 1.8, score: 1.7, alternatives: [{ id: 'cat', words: 'a cat meowing', score: 0.9 }] };
  const door = { kind: 'class' as const, label: 'door_wood_creaks', words: 'a door creaking', start: 3, end: 3.1, score: 1.2, alternatives: [] };
  it('events in hedged words with their spans; none named says so', () => {
    expect(soundEventFact(data([dog]))).toBe('A sound like a dog barking is heard from 0.2 to 1.8 s.');
    expect(soundEventFact(data([dog, door]))).toBe('A sound like a dog barking is heard from 0.2 to 1.8 s, then a sound like a door creaking at 3.0 s.');
    expect(soundEventFact(data([]))).toBe('No particular sound event could be named.');
  });
  it('a clip whose every window of sound was transcribed speech tells no sound-event sentence; one with another window does', () => {
    const speechWindow = { start: 0, end: 5, transcript: 'and mr john', speech: 0.93, top: [], agreed: false, abstained: 'speech' as const };
    const story = (windows: SoundEventData['windows']): string =>
      storyFactText(factSheet([{ round: 1, status: 'ok', tool: 'sound_events', question: 'q', answer: 'a', data: { ...data([]), windows }, cached: false, ms: 1 }], { hasAudio: true, hasVideo: false }).story);
    expect(story([speechWindow])).not.toMatch(/sound event/);
    expect(story([speechWindow, { start: 6, end: 7, speech: 0, top: [], agreed: false, abstained: 'below margin' }])).toContain('No particular sound event could be named.');
    expect(story([])).toContain('No particular sound event could be named.');
  });
  it('a VAD "music" segment is worded as a measured tonal spectrum, never as music, under a bark or a guitar alike', () => {
    const vad = { segments: [{ label: 'music', start: 0, end: 0.3 }, { label: 'silence', start: 0.3, end: 2 }], totals: { speech: 0, music: 0.3, noise: 0, sound: 0, silence: 1.7 } };
    const rounds = (events: SoundEventData['events']): DetectiveRound[] => [
      { round: 1, status: 'ok', tool: 'vad', question: 'q', answer: 'a', data: vad, cached: false, ms: 1 },
      { round: 2, status: 'ok', tool: 'sound_events', question: 'q', answer: 'b', data: data(events), cached: false, ms: 1 },
    ];
    const bark = factSheet(rounds([{ ...dog, start: 0, end: 0.2 }]), { hasAudio: true, hasVideo: false }).lines;
    expect(bark[1]).toBe('Sound with a tonal spectrum from 0.0 to 0.3 s, then silence from 0.3 to 2.0 s (sound 0.3 s and silence 1.7 s in all).');
    expect(bark[2]).toBe('A sound like a dog barking is heard from 0.0 to 0.2 s.');
    const guitar = factSheet(rounds([{ ...dog, label: 'guitar', words: 'a guitar', start: 0, end: 0.3 }]), { hasAudio: true, hasVideo: false }).lines;
    expect(guitar[1]).toBe(bark[1]);
    expect(guitar[2]).toBe('A sound like a guitar is heard from 0.0 to 0.3 s.');
  });
  it('the answer carries stated events only, never the alternatives below the margin', () => {
    const a = formatSoundEventAnswer(data([dog]));
    expect(a).toContain('[0.2-1.8 s] a sound like a dog barking (score 1.70)');
    expect(a).not.toContain('cat');
  });
});

describe('a named sound needs sound evidence', () => {
  const facts = 'The clip is an audio recording lasting 2.0 seconds. A sound like a dog barking is heard from 0.2 to 1.8 s.';
  it('sound words are grounded by any word of their class, or of a narrower class', () => {
    expect(ungroundedSounds('A dog barks twice, then barking again.', facts)).toEqual([]);
    expect(ungroundedSounds('People are laughing.', 'A sound like laughter is heard from 0.0 to 1.0 s.')).toEqual([]);
    expect(ungroundedSounds('Gentle music plays.', 'A sound like a guitar is heard from 0.0 to 2.0 s.')).toEqual([]);
    expect(ungroundedSounds('A cat meows while a siren wails.', facts)).toEqual(['cat', 'meows', 'siren', 'wails']);
  });
  it('a sound denied in its clause is not a sound named', () => {
    expect(ungroundedSounds('The clip contains no sound events or music, and no dog barks; a clean recording.', facts.replace('dog barking', 'bell ringing'))).toEqual([]);
    expect(ungroundedSounds('There is no speech, but a siren wails.', facts)).toEqual(['siren', 'wails']);
  });
  it('a sound word that describes the channel names no sound; the sound itself still does', () => {
    const sheet = 'From 0.0 to 7.0 s a telephone-quality voice says in English: "good morning". The sound is telephone-quality (narrow-band).';
    expect(ungroundedSounds('A telephone-quality voice says "good morning"; the recording is telephone quality, telephone-band.', sheet)).toEqual([]);
    expect(ungroundedSounds('A telephone rings, then a telephone-quality voice speaks.', sheet)).toEqual(['telephone', 'rings']);
  });
  it('quoted speech and words a transcript gave are not sounds heard', () => {
    expect(ungroundedSounds('A voice says "the dog barked at the rain".', 'From 0.1 to 2.0 s a voice says: "the dog barked at the rain"')).toEqual([]);
  });
  it('checkCaption names the invented sound', () => {
    const base = { promptText: '', observationText: 'Noise from 0.0 to 2.0 s. quiet recording integrated loudness -30 LUFS', factText: 'Noise from 0.0 to 2.0 s. The sound is quiet.' };
    const bad = checkCaption({ ...base, caption: 'A quiet recording of noise from 0.0 to 2.0 s in which a dog barks at a passing car, then silence follows.' });
    expect(bad.reasons).toContain('names sounds no observation gave: "dog", "barks", "car"');
    const ok = checkCaption({ ...base, caption: 'A quiet recording of noise from 0.0 to 2.0 s, at about -30 LUFS; no particular sound can be made out in it.' });
    expect(ok.reasons.join(' ')).not.toContain('names sounds');
  });
});

describe('markTranscribedSpeech: windows of quotable speech are not scored', () => {
  const seg = (start: number, end: number, text: string, avgLogprob: number, noSpeechProb = 0.05): WhisperSegment => ({ start, end, text, avgLogprob, noSpeechProb, compressionRatio: 1.2 });

  it('transcribes only the windows the VAD calls speech; marks those with a segment a caption would quote', async () => {
    const windows: SoundWindow[] = [{ start: 0, end: 5 }, { start: 5, end: 7.1 }, { start: 8, end: 9.3 }, { start: 10, end: 11 }, { start: 12, end: 13 }];
    const speech = [0.93, 0.89, 0.86, 0.2, 0.7];
    const asked: Array<ReadonlyArray<readonly [number, number]>> = [];
    const passes: Array<boolean | undefined> = [];
    const worker = {
      transcribe: async (_s: Float32Array, chunks: ReadonlyArray<readonly [number, number]>, o?: { fallback?: boolean }): Promise<WhisperResult> => {
        asked.push(chunks);
        passes.push(o?.fallback);
        return {
          segments: [
            seg(0.1, 4.9, ' And Mr. John Dashwood had then leisure', -0.19),
            seg(5.0, 7.0, ' prudently in his power.', -0.44),
            seg(8.0, 9.2, ' Haha.', -1.39, 0.59), // a laugh: under the quoting confidence
            seg(12.1, 12.9, ' Thank you.', -0.3, 0.8), // Whisper itself calls it no speech
          ],
          language: 'en',
          languageProbability: 0.99,
          seconds: 0.5,
        };
      },
    };
    await markTranscribedSpeech(worker, new Float32Array(16000 * 14), windows, speech, 0.5);
    expect(asked).toEqual([[[0, 5], [5, 7.1], [8, 9.3], [12, 13]]]);
    expect(passes).toEqual([false]); // one pass per window: a song is not decoded again at higher temperatures
    expect(windows.map((w) => w.transcript)).toEqual(['And Mr. John Dashwood had then leisure', 'prudently in his power.', undefined, undefined, undefined]);
    // marked windows are left out of scoring; the laugh is scored
    const scorer = jest.fn(async (ws: readonly SoundWindow[], labels: readonly string[]) => ({ scores: ws.map(() => labels.map(() => 0)), seconds: 0 }));
    const prior = soundPhrasings().map(() => 0);
    const r = await scoreSoundWindows(scorer, windows, prior, { shortlist: 0 }, speech);
    expect(scorer.mock.calls[0][0].map((w) => w.start)).toEqual([8, 10, 12]);
    expect(r.raw[0].every((x) => x === null)).toBe(true);
    const { decisions } = decideSoundEvents(windows, r.raw, speech, prior);
    expect(decisions[0].abstained).toBe('speech');
  });

  it('no window of speech: nothing is transcribed', async () => {
    const transcribe = jest.fn();
    await markTranscribedSpeech({ transcribe }, new Float32Array(16000), [{ start: 0, end: 1 }], [0.1], 0.5);
    expect(transcribe).not.toHaveBeenCalled();
  });
});
