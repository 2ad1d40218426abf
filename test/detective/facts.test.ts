/**
 * The fact sheet a caption is written from, and the checks that hold a caption to it: speech the
 * recognizer was not confident about is never quoted (lena.mp3, a song, decodes at confidence
 * 0.02), segments timed past the clip are dropped, zero-length sound classes and unconfident tempi
 * are left out, on-screen text must reach the caption, and a caption may not guess who speaks.
 */
import { checkCaption, factSheet, MIN_TRANSCRIPT_CONFIDENCE, runDetective, type DetectiveRound, type ObserverToolbox } from '../../src/detective';
import type { AsrData } from '../../src/detective/observers/asr';
import type { OcrData } from '../../src/detective/observers/ocr';
import type { SignalReport } from '../../src/detective/signal';
import { ScriptedChatModel } from './scripted-llm';

const signal: SignalReport = {
  durationSeconds: 12.27, sampleRate: 16000, integratedLufs: -17.1, truePeakDbtp: -4, samplePeakDbfs: -4.2, clippingRatio: 0,
  noiseFloorDbfs: -38.7, snrDb: 25.9, quietFrames: { decayingShare: 0.38, slopeDbPerSecond: 2.3 }, bandwidthHz: 2199, bandEdgeHz: 7969, silenceRatio: 0.002, tempoBpm: 70.4, tempoConfidence: 0.11,
};
const asr = (segments: AsrData['segments']): AsrData => ({ engine: 'whisper-base', transcript: segments.map((s) => s.text).join(' '), segments, speech: [{ start: 0, end: 12.3 }], language: 'en' });
const round = (n: number, tool: string, data: unknown, answer = `${tool} answer`): DetectiveRound => ({ round: n, status: 'ok', tool, question: 'q', answer, data, cached: false, ms: 1 });
const vad = { segments: [{ label: 'music', start: 0, end: 0.3 }, { label: 'speech', start: 0.3, end: 12.3 }], totals: { speech: 12, music: 0.3, noise: 0, sound: 0, silence: 0 } };
const SONG = 'Ol la red doodleie ol digGe digy dotdo leko Kolloke';

describe('factSheet', () => {
  it('a song decoded at confidence 0.02: voice-like sound that could not be made out, no words quoted; a past-the-end segment dropped', () => {
    const sheet = factSheet(
      [
        round(1, 'signal', signal),
        round(2, 'vad', vad),
        round(3, 'asr', asr([{ start: 0, end: 3.4, text: 'Ol la red doodleie', confidence: 0.02, noSpeechProb: 0.1 }, { start: 3.5, end: 12.3, text: 'ol digGe digy dotdo leko', confidence: 0.03, noSpeechProb: 0.1 }, { start: 13.7, end: 12.3, text: 'Kolloke', confidence: 0.02, noSpeechProb: 0.1 }])),
      ],
      { hasAudio: true, hasVideo: false, durationSeconds: 12.27 },
    );
    const text = sheet.lines.join('\n');
    expect(sheet.transcript).toBeUndefined();
    expect(sheet.unreliableSpeech).toBe('Ol la red doodleie ol digGe digy dotdo leko');
    expect(text).not.toMatch(/doodleie|dotdo|Kolloke/);
    expect(text).toMatch(/From 0\.0 to 12\.3 s, 12\.2 s of voice-like sound cannot be made out as words \(recognition confidence 0\.0[23]\)/);
    // zero-length classes and the 0.11-confidence tempo are left out; the rest is in words and numbers
    expect(text).toContain('Sound with a tonal spectrum from 0.0 to 0.3 s, then speech from 0.3 to 12.3 s (speech 12.0 s and sound 0.3 s in all).');
    expect(text).not.toMatch(/noise 0\.0|silence 0\.0 s|BPM|tempo/);
    expect(text).toContain('The sound is moderately loud and fairly clean, with little background noise (integrated loudness -17.1 LUFS');
    expect(sheet.lines[0]).toBe('The clip is an audio recording lasting 12.3 seconds.');
  });

  it('confident speech is quoted whole, with its span; low-confidence segments of it are reported apart; a confident tempo is kept', () => {
    expect(MIN_TRANSCRIPT_CONFIDENCE).toBeCloseTo(Math.exp(-1));
    const sheet = factSheet(
      [
        round(1, 'asr', asr([{ start: 0.1, end: 3.0, text: 'He was not an ill-disposed young man.', confidence: 0.83, noSpeechProb: 0 }, { start: 3.2, end: 4.0, text: 'mumble', confidence: 0.1, noSpeechProb: 0.2 }])),
        round(2, 'signal', { ...signal, tempoBpm: 120, tempoConfidence: 0.8, clippingRatio: 0.004 }),
      ],
      { hasAudio: true, hasVideo: false },
    );
    expect(sheet.transcript).toBe('He was not an ill-disposed young man.');
    expect(sheet.lines).toContain('From 0.1 to 3.0 s a voice says in English: "He was not an ill-disposed young man."');
    expect(sheet.lines.join(' ')).toMatch(/From 3\.2 to 4\.0 s, a further 0\.8 s of voice-like sound cannot be made out/);
    expect(sheet.lines.join(' ')).toMatch(/clipped in 0\.4 % of samples \(audible distortion\) and with a steady beat at about 120 BPM/);
  });

  it('a noise floor of digital silence gives no SNR (it would read 220 dB)', () => {
    const sheet = factSheet([round(1, 'signal', { ...signal, noiseFloorDbfs: -240, snrDb: 220 })], { hasAudio: true, hasVideo: false });
    expect(sheet.lines[1]).toBe('The sound is moderately loud and clean, with digital silence in its pauses (integrated loudness -17.1 LUFS, true peak -4.0 dBTP, no clipping).');
  });

  it('a signal report written by an older version (no quietFrames) is stated by its answer text, not read field by field', () => {
    const { quietFrames: _dropped, ...older } = signal;
    const sheet = factSheet([round(1, 'signal', older, 'Integrated loudness -17.1 LUFS.')], { hasAudio: true, hasVideo: false });
    expect(sheet.lines.join(' ')).toContain('Integrated loudness -17.1 LUFS.');
    expect(sheet.lines.join(' ')).not.toMatch(/digital silence|clean/);
  });

  it('on-screen text with its times; a non-English transcript names its language', () => {
    const ocr: OcrData = { frames: 6, stepSeconds: 1, durationSeconds: 6, texts: [{ text: 'OMNICAP', first: 0, last: 5, frames: 6, conf: 91 }, { text: 'Chapter 1', first: 3, last: 3, frames: 1, conf: 88 }] };
    const sheet = factSheet([round(1, 'ocr', ocr), round(2, 'asr', { ...asr([{ start: 0, end: 2, text: 'Guten Tag', confidence: 0.7, noSpeechProb: 0 }]), language: 'de' })], { hasAudio: true, hasVideo: true, durationSeconds: 6 });
    expect(sheet.onScreenText).toEqual(['OMNICAP', 'Chapter 1']);
    expect(sheet.lines).toContain('On screen (seen in the picture, not heard) the text "OMNICAP" from 0.0 to 5.0 s and "Chapter 1" at 3.0 s is shown.');
    expect(sheet.lines).toContain('From 0.0 to 2.0 s a voice says in German: "Guten Tag"');
  });
});

describe('caption checks against the fact sheet', () => {
  const base = { promptText: '', observationText: 'speech from 0.3 to 6.0 s quiet fairly clean little background noise integrated loudness -24 LUFS' };
  it('on-screen text left out, unreliable speech quoted, or a guessed speaker: each is a named reason', () => {
    const missing = checkCaption({ ...base, caption: 'A quiet recording of speech from 0.3 to 6.0 s with little background noise at about -24 LUFS, fairly clean throughout the clip.', onScreenText: ['OMNICAP'], hasVideo: true });
    expect(missing.reasons.join(' ')).toMatch(/on-screen text missing: 0 %/);
    expect(missing.metrics.onScreenRecall).toBe(0);
    const shown = checkCaption({ ...base, caption: 'A quiet recording of speech from 0.3 to 6.0 s with little background noise at about -24 LUFS, while the word "OMNICAP" is shown on screen.', onScreenText: ['OMNICAP'], hasVideo: true });
    expect(shown.ok).toBe(true);
    const quoted = checkCaption({ ...base, caption: `A quiet recording of speech from 0.3 to 6.0 s at about -24 LUFS with little background noise; the voice sings "${SONG}".`, unreliableSpeech: SONG, factText: 'voice-like sound could not be made out as words' });
    expect(quoted.reasons.join(' ')).toMatch(/quotes unreliable speech/);
    const honest = checkCaption({ ...base, caption: 'A quiet recording of voice-like sound from 0.3 to 6.0 s at about -24 LUFS with little background noise; no words could be made out.', unreliableSpeech: SONG, factText: 'voice-like sound could not be made out as words' });
    expect(honest).toMatchObject({ ok: true, metrics: { unreliableQuoted: 0 } });
    const guess = checkCaption({ ...base, caption: 'A male speaker talks in a quiet recording from 0.3 to 6.0 s at about -24 LUFS; his voice is fairly clean, with little background noise.' });
    expect(guess.reasons.join(' ')).toMatch(/guesses who is speaking \("male", "his"\)/);
    const named = checkCaption({ ...base, caption: 'Speech from 0.3 to 6.0 s at about -24 LUFS, delivered by "Mr. John Dashwood", quiet and fairly clean, with little background noise.' });
    expect(named.reasons.join(' ')).toMatch(/guesses who is speaking \("delivered by"\)/);
    // words inside the quoted transcript are the speaker's, not a guess; an observer that says "a woman" allows it
    expect(checkCaption({ ...base, caption: 'A quiet recording of speech from 0.3 to 6.0 s at about -24 LUFS with little background noise: "he was not an ill disposed young man".', transcript: 'he was not an ill disposed young man' }).ok).toBe(true);
    expect(checkCaption({ ...base, observationText: `${base.observationText} a woman speaks`, caption: 'A woman speaks in a quiet recording from 0.3 to 6.0 s at about -24 LUFS, fairly clean, with little background noise.' }).ok).toBe(true);
  });

  it("words quoted that no observer gave (the 1.5B model quoted its own refusal as the song's lyrics) are rejected", () => {
    const c = checkCaption({ ...base, caption: 'Speech from 0.3 to 6.0 s, quiet and fairly clean at -24 LUFS with little background noise. The speech transcript is "I\'m sorry, I can\'t help you with that."', unreliableSpeech: SONG, factText: 'voice-like sound could not be made out as words' });
    expect(c.reasons.join(' ')).toMatch(/quotes words that no observation gave: "I'm sorry, I can't help you with that\."/);
  });

  it('a time or a level the observations never gave is rejected; rounded and negated forms of given ones pass', () => {
    const lena = checkCaption({ ...base, caption: 'Speech from 0.3 to 6.0 s, quiet and fairly clean at -24 LUFS with little background noise. The clip ends with a brief, clean sound from 12.3 to 12.4 seconds.' });
    expect(lena.reasons).toContain('states numbers no observation gave: 12.3, 12.4');
    expect(checkCaption({ ...base, caption: 'Speech from 0.3 to 6 s, quiet and fairly clean at about 24 LUFS below full scale, with little background noise, and 2 short pauses.' }).ok).toBe(true);
  });

  it('a time-stamped list (as written for the camera-shutter effect) is not prose, judged on the raw answer', () => {
    const raw = 'Audio Recording: 0.0 s: Silence.\n\n0.1 s: Noise (0.3 s)\n\n0.4 s: Silence (0.6 s)\n\n0.9 s: Silence.';
    const c = checkCaption({ ...base, caption: 'Audio Recording: 0.0 s: Silence. 0.1 s: Noise (0.3 s). 0.4 s: Silence (0.6 s). 0.9 s: Silence.', rawCaption: raw });
    expect(c.reasons.join(' ')).toMatch(/not prose: 3 of 4 lines are list items or time-stamped entries/);
  });

  it('the transcript alone, even unquoted, is no caption; headings and list lines are not prose', () => {
    const transcript = 'And Mr. John Dashwood had then leisure to consider how much there might be prudently in his power to do for them.';
    const bare = checkCaption({ ...base, observationText: `${base.observationText} ${transcript}`, caption: transcript, transcript });
    expect(bare.reasons.join(' ')).toMatch(/no description: only 0 words besides the speech/);
    const list = 'Audio Recording: 3.5 seconds\n\nSilence from 0.0 to 0.2 s\n\nSpeech from 0.3 to 6.0 s\n\nThe sound is quiet and fairly clean, with little background noise at -24 LUFS.';
    expect(checkCaption({ ...base, caption: list }).reasons.join(' ')).toMatch(/not prose: 3 of 4 lines are headings or list items/);
    expect(checkCaption({ ...base, caption: 'Speech from 0.3 to 6.0 s is quiet and fairly clean.\n\nThere is little background noise, at about -24 LUFS integrated loudness.' }).ok).toBe(true);
    // one trailing section label is tolerated (the 1.5B model often ends so); two are sections, not prose
    const prose = 'Speech from 0.3 to 6.0 s is quiet and fairly clean, with little background noise at about -24 LUFS.';
    expect(checkCaption({ ...base, caption: `${prose}\n\nSound Events and Music: The clip contains no sound events or music.`, rawCaption: `${prose}\n\nSound Events and Music:\nThe clip contains no sound events or music.` }).ok).toBe(true);
    expect(checkCaption({ ...base, caption: `Audio Recording: ${prose}\n\nSound Events and Music: none are heard in this quiet speech.` }).reasons.join(' ')).toMatch(/not prose: 2 section headings/);
  });
});

describe('one revision of a caption that fails its checks', () => {
  const ocr: OcrData = { frames: 6, stepSeconds: 1, durationSeconds: 6, texts: [{ text: 'OMNICAP', first: 0, last: 5, frames: 6, conf: 91 }] };
  const tools: ObserverToolbox = {
    list: () => [{ name: 'ocr', modality: 'visual', description: 'reads text on screen' }],
    observe: async () => ({ answer: 'On-screen text: "OMNICAP"', data: ocr, cached: false }),
    calls: () => ({}),
    dispose: async () => undefined,
    [Symbol.asyncDispose]: async () => undefined,
  };
  const clip = { id: 'v', path: '/nonexistent.mp4' };
  const facts = { hasAudio: false, hasVideo: true, durationSeconds: 6 };
  const first = 'A silent video lasting six seconds, without an audio stream, whose picture stays still throughout.';

  it('the problems are named to the LLM; a revised caption that passes is ok, and the first attempt is kept', async () => {
    const captions = [first, 'A six-second video without an audio stream; the text "OMNICAP" is shown on screen from 0.0 to 5.0 s, seen in the picture.'];
    const llm = new ScriptedChatModel(['{"tool":"ocr","question":"what text?"}'], () => captions.shift() ?? '');
    const r = await runDetective(clip, llm, tools, { rounds: 2, facts });
    expect(r).toMatchObject({ status: 'ok', synthesis: { source: 'llm', firstAttempt: { caption: first, reasons: [expect.stringMatching(/on-screen text missing/)] } } });
    expect(r.caption).toContain('"OMNICAP"');
    const revisePrompt = llm.calls.at(-1)!.messages.at(-1)!.content;
    expect(revisePrompt).toContain('- on-screen text missing: 0 % of the words read on screen are in the caption');
    expect(revisePrompt).toMatch(/quote text on screen exactly/i);
    expect(r.prompts.map((p) => p.name)).toContain('revise');
  });

  it('a revision that fails too: degraded with the reasons, the fact-sheet caption', async () => {
    const llm = new ScriptedChatModel(['{"tool":"ocr","question":"what text?"}'], () => first);
    const r = await runDetective(clip, llm, tools, { rounds: 2, facts });
    expect(r.status).toBe('degraded');
    expect(r.degradedReasons?.join(' ')).toMatch(/LLM caption rejected: on-screen text missing/);
    expect(r.synthesis).toMatchObject({ source: 'template', rejectedCaption: first, firstAttempt: { caption: first } });
    expect(r.caption).toBe('The clip is a video without an audio stream lasting 6.0 seconds. From 0.0 to 5.0 s the text "OMNICAP" is shown on screen.');
    expect(r.usage.llmCalls).toBe(2); // the caption and its revision: the fixed reports need no decision round
  });
});
