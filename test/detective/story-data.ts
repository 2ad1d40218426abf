/** A made-up but realistic set of observations of one 6 s video with sound (three shots, two spoken sentences, on-screen text, applause), shared by the storyline and check tests. */
import type { DetectiveRound } from '../../src/detective';
import type { AsrData } from '../../src/detective/observers/asr';
import type { OcrData } from '../../src/detective/observers/ocr';
import { SOUND_DECISION_DEFAULTS, SOUND_SCORING_DEFAULTS, type SoundEventData } from '../../src/detective/observers/sound-events';
import type { VideoData } from '../../src/detective/observers/video';

export const round = (n: number, tool: string, data: unknown): DetectiveRound => ({ round: n, status: 'ok', tool, question: 'q', answer: `${tool} answer`, data, cached: false, ms: 1 });
const keyframe = (time: number, brightness: number, colour: string): VideoData['scenes'][number]['keyframe'] => ({ time, brightness, contrast: 0.1, saturation: 0.5, colours: [{ name: colour, share: 0.9 }] });
const static_ = { speed: 0, jitter: 0, activity: 0, measurable: true };
export const video: VideoData = {
  width: 320, height: 240, fps: 25, durationSeconds: 6,
  analysed: { fps: 25, width: 160, height: 120, frames: 150, seconds: 6 },
  cuts: [{ time: 2, score: 0.9 }, { time: 4, score: 0.8 }],
  scenes: [
    { start: 0, end: 2, keyframe: keyframe(1, 0.63, 'red') },
    { start: 2, end: 4, keyframe: keyframe(3, 0.5, 'dark blue') },
    { start: 4, end: 6, keyframe: keyframe(5, 0.9, 'white') },
  ],
  motion: [
    { start: 0, end: 2, kind: 'static', ...static_ },
    { start: 2, end: 4, kind: 'pan', direction: 'pans right', speed: 0.5, jitter: 0.01, activity: 0.01, measurable: true },
    { start: 4, end: 6, kind: 'static', ...static_ },
  ],
  black: [], frozen: [], pictureChanges: [], notes: [],
};
export const asr: AsrData = {
  engine: 'whisper-base', transcript: 'good morning everyone. welcome to the show',
  segments: [
    { start: 0.5, end: 1.8, text: 'Good morning everyone.', confidence: 0.8, noSpeechProb: 0 },
    { start: 2.4, end: 3.9, text: 'Welcome to the show.', confidence: 0.8, noSpeechProb: 0 },
  ],
  speech: [{ start: 0.5, end: 3.9 }], language: 'en', languageProbability: 0.95,
};
export const events: SoundEventData = {
  engine: 'whisper-base', windows: [], skippedWindows: 0, scoreSeconds: 1, sequences: 99, settings: { ...SOUND_DECISION_DEFAULTS, ...SOUND_SCORING_DEFAULTS, contextSeconds: 5, tileSeconds: 0, calibration: 'x' },
  events: [{ kind: 'class', label: 'clapping', words: 'clapping', start: 4.2, end: 5.5, score: 1.4, alternatives: [] }],
};
export const ocr: OcrData = { frames: 12, stepSeconds: 0.5, durationSeconds: 6, texts: [{ text: 'WELCOME', first: 2.5, last: 3.5, frames: 3, conf: 92 }] };
export const vad = { segments: [{ label: 'speech', start: 0.4, end: 4.0 }, { label: 'noise', start: 4.1, end: 5.6 }], totals: { speech: 3.6, music: 0, noise: 1.5, sound: 0, silence: 0 } };
export const rounds = [round(1, 'vad', vad), round(2, 'asr', asr), round(3, 'sound_events', events), round(4, 'video', video), round(5, 'ocr', ocr)];
export const clip = { hasAudio: true, hasVideo: true, durationSeconds: 6 };

