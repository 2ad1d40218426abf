/**
 * Every plain-word phrase of the fact sheet follows from the number it came from: loudness, noise,
 * fading tails, clipping (any clipped sample or a true peak over 0 dBTP), narrow-band (telephone)
 * sound and the language Whisper detected, each at its boundaries.
 */
import { factSheet, type DetectiveRound } from '../../src/detective';
import { clippingWords, isNarrowBand, languageName, languageWords, loudnessWord, noiseWord, signalFact } from '../../src/detective/facts';
import type { AsrData } from '../../src/detective/observers/asr';
import { describeSignal, percentOf, quietPartsFade, type SignalReport } from '../../src/detective/signal';

const report: SignalReport = {
  durationSeconds: 6, sampleRate: 16000, integratedLufs: -20, truePeakDbtp: -3, samplePeakDbfs: -3.2, clippingRatio: 0,
  noiseFloorDbfs: -50, snrDb: 24, quietFrames: { decayingShare: 0.3, slopeDbPerSecond: 0.5 }, bandwidthHz: 1500, bandEdgeHz: 7000,
  silenceRatio: 0.1, tempoBpm: null, tempoConfidence: 0,
};
const round = (n: number, tool: string, data: unknown): DetectiveRound => ({ round: n, status: 'ok', tool, question: 'q', answer: `${tool} answer`, data, cached: false, ms: 1 });
const asr = (extra: Partial<AsrData> = {}): AsrData => ({
  engine: 'whisper-base', transcript: 'hello there', segments: [{ start: 0.2, end: 1.4, text: 'hello there', confidence: 0.8, noSpeechProb: 0.01 }], speech: [{ start: 0, end: 1.6 }], language: 'en', languageProbability: 0.97, ...extra,
});

describe('a sound shorter than a loudness block', () => {
  it('a 0.1 s bark has no integrated loudness but a peak: too short to measure, not silence; a zero peak is silence', () => {
    const base = { durationSeconds: 0.14, sampleRate: 16000, integratedLufs: null, truePeakDbtp: -3.2, clippingRatio: 0, noiseFloorDbfs: null, snrDb: null, quietFrames: null, bandwidthHz: null, bandEdgeHz: null, silenceRatio: 0, tempoBpm: null, tempoConfidence: 0 };
    expect(signalFact({ ...base, samplePeakDbfs: -3.5 })).toBe('The sound is too short for its loudness to be measured (under 0.4 s; sample peak -3.5 dBFS).');
    expect(signalFact({ ...base, samplePeakDbfs: null, truePeakDbtp: null })).toBe('The audio is digital silence.');
  });
});

describe('loudness words (integrated LUFS)', () => {
  it.each([
    [-35.01, 'very quiet'], [-35, 'quiet'], [-25.01, 'quiet'], [-25, 'moderately loud'], [-14.01, 'moderately loud'], [-14, 'loud'],
  ])('%p LUFS is %p', (lufs, word) => expect(loudnessWord(lufs)).toBe(word));
});

describe('noise words (SNR estimate)', () => {
  it.each([
    [30, 'clean, with no audible background noise'], [29.9, 'fairly clean, with little background noise'], [18, 'fairly clean, with little background noise'],
    [17.9, 'has noticeable background noise'], [8, 'has noticeable background noise'],
  ])('%p dB: %p', (snr, word) => expect(noiseWord(snr)).toBe(word));
  it('under 8 dB the level hardly moves: a continuous sound or noise, not called noisy for sure', () => {
    expect(noiseWord(7.9)).toMatch(/^even in level throughout.*\(a continuous sound or strong background noise\)$/);
  });
});

describe('fading tails are not noise', () => {
  it('a fade needs 80 % of the quiet frames falling faster than 4 dB/s', () => {
    expect(quietPartsFade({ quietFrames: { decayingShare: 0.8, slopeDbPerSecond: -4.1 } })).toBe(true);
    expect(quietPartsFade({ quietFrames: { decayingShare: 0.79, slopeDbPerSecond: -20 } })).toBe(false);
    expect(quietPartsFade({ quietFrames: { decayingShare: 1, slopeDbPerSecond: -4 } })).toBe(false);
    expect(quietPartsFade({ quietFrames: null })).toBe(false);
  });
  it('a gong-like decay is worded as a fading tail with its rate; no SNR and no noise words', () => {
    const line = signalFact({ ...report, snrDb: 34.5, noiseFloorDbfs: -51.8, quietFrames: { decayingShare: 0.99, slopeDbPerSecond: -13.2 } });
    expect(line).toContain('with a fading tail (its quietest parts are the sound dying away at about 13 dB per second, not background noise)');
    expect(line).toContain('decay about 13 dB/s');
    expect(line).not.toMatch(/SNR|noise floor|noticeable|little background noise/);
  });
  it('steady quiet parts keep the noise words and the SNR', () => {
    const line = signalFact({ ...report, snrDb: 12 });
    expect(line).toContain('has noticeable background noise');
    expect(line).toContain('SNR about 12 dB, noise floor -50.0 dBFS');
  });
});

describe('clipping words', () => {
  it('"no clipping" only when no sample clipped and the true peak is at most 0 dBTP', () => {
    expect(clippingWords({ clippingRatio: 0, truePeakDbtp: 0 })).toEqual({ number: 'no clipping' });
    expect(clippingWords({ clippingRatio: 0, truePeakDbtp: null })).toEqual({ number: 'no clipping' });
  });
  it('a true peak over 0 dBTP is stated with its value, even without clipped samples', () => {
    expect(clippingWords({ clippingRatio: 0, truePeakDbtp: 0.1 }).word).toBe('with peaks over full scale between samples (true peak +0.1 dBTP), which can clip on playback');
  });
  it('any clipped sample is stated, with a share never rounded to zero', () => {
    expect(clippingWords({ clippingRatio: 1e-6, truePeakDbtp: 1.7 }).word).toBe('with some clipped peaks (0.0001 % of samples at full scale)');
    expect(clippingWords({ clippingRatio: 0.0006, truePeakDbtp: 3.1 }).word).toBe('with some clipped peaks (0.06 % of samples at full scale)');
    expect(clippingWords({ clippingRatio: 0.00099, truePeakDbtp: 3.1 }).word).toBe('with some clipped peaks (0.1 % of samples at full scale)');
    expect(clippingWords({ clippingRatio: 0.001, truePeakDbtp: 3.1 }).word).toBe('clipped in 0.1 % of samples (audible distortion)');
  });
  it('the signal line never says "no clipping" next to a measured clip', () => {
    const line = signalFact({ ...report, clippingRatio: 0.0008, truePeakDbtp: 2.4 });
    expect(line).toContain('with some clipped peaks (0.08 % of samples at full scale)');
    expect(line).toContain('true peak +2.4 dBTP');
    expect(line).not.toContain('no clipping');
    expect(signalFact(report)).toContain('true peak -3.0 dBTP, no clipping');
  });
});

describe('narrow-band (telephone-quality) sound', () => {
  it('a band edge up to 4.5 kHz is narrow-band', () => {
    expect(isNarrowBand({ bandEdgeHz: 4500 })).toBe(true);
    expect(isNarrowBand({ bandEdgeHz: 4531 })).toBe(false);
    expect(isNarrowBand({ bandEdgeHz: null })).toBe(false);
  });
  it('with speech heard it is telephone-quality, on the signal line and the speech line', () => {
    const narrow = { ...report, bandEdgeHz: 3844 };
    expect(signalFact(narrow, true)).toContain('telephone-quality (narrow-band, nothing above about 3.8 kHz)');
    expect(signalFact(narrow, false)).toContain('narrow-band (nothing above about 3.8 kHz)');
    expect(signalFact(narrow, false)).not.toContain('telephone');
    expect(signalFact(report, true)).not.toMatch(/telephone|narrow-band/);
    const sheet = factSheet([round(1, 'asr', asr()), round(2, 'signal', narrow)], { hasAudio: true, hasVideo: false });
    expect(sheet.lines).toContain('From 0.2 to 1.4 s a telephone-quality voice says in English: "hello there"');
    expect(sheet.lines.join(' ')).toContain('telephone-quality (narrow-band, nothing above about 3.8 kHz)');
    const wide = factSheet([round(1, 'asr', asr()), round(2, 'signal', report)], { hasAudio: true, hasVideo: false });
    expect(wide.lines.join(' ')).not.toContain('telephone');
  });
});

describe("the signal observer's own answer", () => {
  it('says when its SNR is a decay, when the band is narrow, and never rounds a clip share to zero', () => {
    const text = describeSignal({ ...report, clippingRatio: 0.0004, quietFrames: { decayingShare: 0.95, slopeDbPerSecond: -12.4 }, bandEdgeHz: 3900 });
    expect(text).toContain('clipping 0.04 % of samples');
    expect(text).toContain('SNR estimate 24.0 dB (not a noise level: the quietest parts are a sound fading at about 12 dB/s)');
    expect(text).toContain('band edge (-40 dB) 3900 Hz (narrow-band, telephone-like)');
    expect(describeSignal(report)).toContain('band edge (-40 dB) 7000 Hz;');
    expect([0, 1e-7, 0.0004, 0.00095, 0.001, 0.0123].map(percentOf)).toEqual(['0 %', '0.00001 %', '0.04 %', '0.1 %', '0.1 %', '1.2 %']);
  });
});

describe('the language Whisper detected', () => {
  it('is named, English included; an unsure detection is "probably"', () => {
    expect(languageWords({ language: 'en', languageProbability: 0.97 })).toBe(' in English');
    expect(languageWords({ language: 'de', languageProbability: 0.5 })).toBe(' in German');
    expect(languageWords({ language: 'de', languageProbability: 0.49 })).toBe(' probably in German');
    expect(languageWords({ language: 'en', languageProbability: null })).toBe(' in English');
    expect(languageWords({ language: null })).toBe('');
  });
  it('names codes from Whisper beyond a fixed table; an unknown code stays a code', () => {
    expect(languageName('haw')).toBe('Hawaiian');
    expect(languageName('yue')).toBe('Cantonese');
    expect(languageName('zz')).toBe('zz');
  });
  it('the fact sheet says it', () => {
    const sheet = factSheet([round(1, 'asr', asr({ language: 'fr', languageProbability: 0.42 }))], { hasAudio: true, hasVideo: false });
    expect(sheet.lines).toContain('From 0.2 to 1.4 s a voice says probably in French: "hello there"');
  });
});
