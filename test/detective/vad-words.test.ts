/**
 * What the fact sheet may say of the VAD's segments: a VAD separates speech from non-speech, and its
 * "music" label is only a measured tonal spectrum, so no segment is called music; music and
 * instruments are named only by the sound-event observer, and a caption naming them without it is
 * refused. A voice the sound-event observer called singing is not called speech. Spans that round to
 * nothing at 0.1 s are not told.
 */
import { factSheet, modalityEvidence, type DetectiveRound } from '../../src/detective';
import { modalityReasons } from '../../src/detective/checks-modality';
import { vadFact, voiceVerb, type VadData } from '../../src/detective/facts';
import { spanShows, storyFactText } from '../../src/detective/facts-timeline';
import type { AsrData } from '../../src/detective/observers/asr';
import { SOUND_DECISION_DEFAULTS, SOUND_SCORING_DEFAULTS, type SoundEventData } from '../../src/detective/observers/sound-events';
import { segmentLabels, type VadLabel } from '../../src/detective/observers/vad';
import { video } from './story-data';

const round = (n: number, tool: string, data: unknown): DetectiveRound => ({ round: n, status: 'ok', tool, question: 'q', answer: `${tool} answer`, data, cached: false, ms: 1 });
const vad = (segments: VadData['segments']): VadData => {
  const totals: Record<VadLabel, number> = { speech: 0, music: 0, noise: 0, sound: 0, silence: 0 };
  for (const s of segments) totals[s.label] += s.end - s.start;
  return { segments, totals };
};
const events = (list: Array<{ label: string; words: string; start: number; end: number }>): SoundEventData => ({
  engine: 'whisper-base', events: list.map((e) => ({ kind: 'class' as const, score: 1.5, alternatives: [], ...e })), windows: [], skippedWindows: 0, scoreSeconds: 1, sequences: 9,
  settings: { ...SOUND_DECISION_DEFAULTS, ...SOUND_SCORING_DEFAULTS, contextSeconds: 5, tileSeconds: 0, calibration: 'x' },
});
const asr = (segments: AsrData['segments']): AsrData => ({ engine: 'whisper-base', transcript: segments.map((s) => s.text).join(' '), segments, speech: [{ start: 0, end: 4 }], language: 'en', languageProbability: 0.9 });
const creak = vad([{ label: 'silence', start: 0, end: 0.4 }, { label: 'music', start: 0.4, end: 3.2 }, { label: 'noise', start: 3.2, end: 4.1 }]);

describe('VAD segments in words a VAD supports', () => {
  it('a creak the VAD labelled "music" is a sound with a tonal spectrum; "noise" is a sound; totals per kind', () => {
    expect(vadFact(creak)).toBe(
      'Silence from 0.0 to 0.4 s, then sound with a tonal spectrum from 0.4 to 3.2 s, then sound from 3.2 to 4.1 s (sound 3.7 s and silence 0.4 s in all).',
    );
    const sheet = factSheet([round(1, 'vad', creak)], { hasAudio: true, hasVideo: false, durationSeconds: 4.1 });
    const story = storyFactText(sheet.story);
    expect(story).toContain('[sound] From 0.4 to 3.2 s a sound is heard whose spectrum measures tonal (steady pitched partials).');
    expect(story).toContain('[sound] From 3.2 to 4.1 s a sound is heard.');
    expect(`${sheet.lines.join('\n')}\n${story}`).not.toMatch(/music|noise is heard/i);
  });

  it('a caption that calls the tonal sound music, or names an instrument, is refused without a sound event; a sound event of a guitar grounds both', () => {
    const vadOnly = modalityEvidence([round(1, 'vad', creak)]);
    expect(modalityReasons('From 0.4 to 3.2 s music is heard, then a sound until 4.1 s.', vadOnly, false)).toEqual(['names sounds no sound observation gave (no sound event was stated for them): "music"']);
    expect(modalityReasons('From 0.4 to 3.2 s a piano plays.', vadOnly, false)).toEqual(['names sounds no sound observation gave (no sound event was stated for them): "piano"']);
    expect(modalityReasons('From 0.4 to 3.2 s a tonal sound is heard, then a sound until 4.1 s.', vadOnly, false)).toEqual([]);
    const guitar = modalityEvidence([round(1, 'vad', creak), round(2, 'sound_events', events([{ label: 'guitar', words: 'a guitar', start: 0.4, end: 3.2 }]))]);
    expect(modalityReasons('From 0.4 to 3.2 s music is heard, a sound like a guitar.', guitar, false)).toEqual([]);
  });

  it('speech under a sound event of singing is a voice like singing, and its words are sung, not said', () => {
    const rounds = [
      round(1, 'vad', vad([{ label: 'speech', start: 0, end: 4 }])),
      round(2, 'sound_events', events([{ label: 'singing', words: 'singing', start: 0, end: 4 }])),
      round(3, 'asr', asr([{ start: 0.2, end: 3.8, text: 'la la the summer wind', confidence: 0.6, noSpeechProb: 0.1 }])),
    ];
    const sheet = factSheet(rounds, { hasAudio: true, hasVideo: false, durationSeconds: 4 });
    expect(sheet.lines[1]).toBe('Voice like singing from 0.0 to 4.0 s.');
    expect(sheet.lines).toContain('From 0.2 to 3.8 s a voice sings in English: "la la the summer wind"');
    expect(storyFactText(sheet.story)).toContain('[speech] From 0.2 to 3.8 s a voice sings in English: "la la the summer wind"');
    expect(sheet.lines.join('\n')).not.toMatch(/\bspeech\b|says/);
  });

  it('without a singing or music event the words stay said (nothing is invented); with singing over some segments, or music, "sings or says"', () => {
    const segs = [{ start: 0, end: 1 }, { start: 2, end: 3 }];
    expect(voiceVerb(segs, [])).toBe('says');
    expect(voiceVerb(segs, events([{ label: 'dog', words: 'a dog barking', start: 0, end: 3 }]).events)).toBe('says');
    expect(voiceVerb(segs, events([{ label: 'music', words: 'music', start: 0, end: 3 }]).events)).toBe('sings or says');
    expect(voiceVerb(segs, events([{ label: 'guitar', words: 'a guitar', start: 2.5, end: 3 }]).events)).toBe('sings or says');
    expect(voiceVerb(segs, events([{ label: 'singing', words: 'singing', start: 0, end: 1.5 }]).events)).toBe('sings or says');
    expect(voiceVerb(segs, events([{ label: 'singing', words: 'singing', start: 0.5, end: 2.5 }]).events)).toBe('sings');
  });
});

describe('a voice over music or singing', () => {
  it('VAD speech under a music event is a voice that may be speech or singing', () => {
    const rounds = [round(1, 'vad', vad([{ label: 'speech', start: 0, end: 4 }])), round(2, 'sound_events', events([{ label: 'music', words: 'music', start: 0, end: 4 }]))];
    const sheet = factSheet(rounds, { hasAudio: true, hasVideo: false, durationSeconds: 4 });
    expect(sheet.lines[1]).toBe('Voice (speech or singing) from 0.0 to 4.0 s.');
    expect(storyFactText(sheet.story)).toContain('[sound] From 0.0 to 4.0 s a voice is heard with the music; it may be speech or singing.');
  });

  it('a caption calling a sung voice speech is refused; "sings" and "voice" pass; without the singing event "speaks" passes', () => {
    const sung = [
      round(1, 'vad', vad([{ label: 'speech', start: 0, end: 4 }])),
      round(2, 'sound_events', events([{ label: 'singing', words: 'singing', start: 0, end: 4 }])),
      round(3, 'asr', asr([{ start: 0.2, end: 3.8, text: 'la la the summer wind', confidence: 0.6, noSpeechProb: 0.1 }])),
    ];
    const e = modalityEvidence(sung);
    expect(e.sung).toBe(true);
    expect(modalityReasons('From 0.2 to 3.8 s a man speaks: "la la the summer wind", a sound like singing.', e, false)).toEqual(['calls the voice speech ("speaks"), but the sound events name it singing']);
    expect(modalityReasons('From 0.2 to 3.8 s a voice sings "la la the summer wind", a sound like singing.', e, false)).toEqual([]);
    expect(modalityReasons('No one speaks; a voice sings "la la the summer wind", a sound like singing.', e, false)).toEqual([]);
    const spoken = modalityEvidence([sung[0], sung[2]]); // the VAD and the ASR, no sound events
    expect(spoken.sung).toBeUndefined();
    expect(modalityReasons('From 0.2 to 3.8 s a man speaks: "la la the summer wind".', spoken, false)).toEqual([]);
    // a voice outside the singing keeps speech words allowed
    const partly = modalityEvidence([...sung, round(4, 'vad', vad([{ label: 'speech', start: 5, end: 7 }]))]);
    expect(partly.sung).toBeUndefined();
  });
});

describe('spans shorter than the 0.1 s display resolution are not told', () => {
  it('spanShows at the rounding boundary', () => {
    expect(spanShows(0, 0.032)).toBe(false);
    expect(spanShows(0, 0.049)).toBe(false);
    expect(spanShows(0, 0.05)).toBe(true);
    expect(spanShows(1.21, 1.24)).toBe(false);
    expect(spanShows(1.24, 1.26)).toBe(true);
  });

  it('a 0.03 s silence at the start is not "from 0.0 to 0.0 s there is silence"', () => {
    const d = vad([{ label: 'silence', start: 0, end: 0.03 }, { label: 'music', start: 0.03, end: 2 }, { label: 'silence', start: 2, end: 2.04 }]);
    expect(vadFact(d)).toBe('Sound with a tonal spectrum from 0.0 to 2.0 s.');
    const story = storyFactText(factSheet([round(1, 'vad', d)], { hasAudio: true, hasVideo: false, durationSeconds: 2.04 }).story);
    expect(story).not.toMatch(/From (\d+\.\d) to \1 s/);
    expect(story).not.toMatch(/silence/);
  });

  it('the VAD merges a short first run into the run after it (it has none before)', () => {
    const hop = 0.032;
    const labels: VadLabel[] = ['silence', ...Array<VadLabel>(40).fill('sound'), ...Array<VadLabel>(20).fill('silence')];
    expect(segmentLabels(labels, hop)).toEqual([{ label: 'sound', start: 0, end: 1.31 }, { label: 'silence', start: 1.31, end: 1.95 }]);
  });

  it('a black stretch that rounds to nothing is not told; a longer one is', () => {
    const d = { ...video, black: [{ start: 1.01, end: 1.03 }, { start: 2, end: 2.5 }] };
    const sheet = factSheet([round(1, 'video', d)], { hasAudio: false, hasVideo: true, durationSeconds: 3 });
    expect(sheet.lines).toContain('The picture is black from 2.0 to 2.5 s.');
    expect(storyFactText(sheet.story)).not.toMatch(/From 1\.0 to 1\.0 s/);
  });
});
