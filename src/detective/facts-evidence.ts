/**
 * What a clip's observations establish per stream, for the caption checks (checks-modality.ts):
 * whether anything reported on the picture, the text of the sound evidence (sound events, sound
 * segments, the signal, audio models; never the transcript or the screen), whether a voice was
 * heard, and the picture's measured classes (brightness words, colour names, motion kinds).
 */
import type { MeasuredPicture, ModalityEvidence } from './checks-modality';
import { isAsrData, isSignalReport, isSoundEventData, isVadData, signalFact, soundEventFact, splitSegments, vadFact, voiceHeard, voiceIsSung, type OkRound } from './facts';
import { isVideoData } from './facts-picture';
import { brightnessWord, contrastWord, saturationWord } from './observers/colour';
import type { VideoData } from './observers/video';
import type { DetectiveRound } from './types';
import type { ObserverModality } from '../observers';

/** Observers of this project by what they perceive (others are looked up in `offered`). */
const AUDIO_TOOLS = new Set(['signal', 'vad', 'asr', 'sound_events', 'captioner', 'audio_lm']);
const VISUAL_TOOLS = new Set(['video', 'ocr']);

/** What the fact sheet says of a voice the recognizer could not make out (its hedge names singing and chanting). */
const UNCLEAR_VOICE = 'voice-like sound that cannot be made out as words; it may be singing, chanting, another language or unclear speech';

/** The video observer's measurements as the classes a caption's words are held to. */
export function measuredPicture(d: VideoData): MeasuredPicture {
  return {
    brightness: d.scenes.map((s) => brightnessWord(s.keyframe.brightness)),
    colours: [...d.scenes.flatMap((s) => s.keyframe.colours.map((c) => c.name)), ...(d.black.length > 0 ? ['black'] : [])],
    motion: d.motion.map((m) => m.kind),
    contrast: d.scenes.map((s) => contrastWord(s.keyframe.contrast)),
    saturation: d.scenes.map((s) => saturationWord(s.keyframe.saturation)),
    shots: d.scenes.map((s) => ({ start: s.start, end: s.end, colours: s.keyframe.colours.map((c) => c.name) })),
    motionSpans: d.motion.map((m) => ({ start: m.start, end: m.end, kind: m.kind })),
  };
}

export function modalityEvidence(rounds: readonly DetectiveRound[], offered: ReadonlyArray<{ name: string; modality: ObserverModality }> = []): ModalityEvidence {
  const ok = rounds.filter((r): r is OkRound => r.status === 'ok');
  const modality = (tool: string): ObserverModality | undefined => (AUDIO_TOOLS.has(tool) ? 'audio' : VISUAL_TOOLS.has(tool) ? 'visual' : offered.find((o) => o.name === tool)?.modality);
  const sound: string[] = [];
  const visualText: string[] = [];
  let picture: MeasuredPicture | undefined;
  const events = ok.flatMap((r) => (r.tool === 'sound_events' && isSoundEventData(r.data) ? r.data.events : []));
  for (const r of ok) {
    if (r.tool === 'sound_events' && isSoundEventData(r.data)) sound.push(soundEventFact(r.data));
    else if (r.tool === 'vad' && isVadData(r.data)) sound.push(vadFact(r.data, events));
    else if (r.tool === 'signal' && isSignalReport(r.data)) sound.push(signalFact(r.data));
    else if (r.tool === 'asr' && isAsrData(r.data) && splitSegments(r.data).unreliable.length > 0) sound.push(UNCLEAR_VOICE);
    else if (r.tool === 'video' && isVideoData(r.data)) {
      const m = measuredPicture(r.data);
      picture = picture === undefined ? m : { brightness: [...picture.brightness, ...m.brightness], colours: [...picture.colours, ...m.colours], motion: [...picture.motion, ...m.motion], contrast: [...(picture.contrast ?? []), ...(m.contrast ?? [])], saturation: [...(picture.saturation ?? []), ...(m.saturation ?? [])] };
    } else if (r.tool !== 'asr' && r.tool !== 'ocr') {
      const m = modality(r.tool);
      if (m === 'audio' || m === 'audio-visual') sound.push(r.answer);
      if (m === 'visual' || m === 'audio-visual') visualText.push(r.answer);
    }
  }
  const visual = ok.some((r) => {
    const m = modality(r.tool);
    return m === 'visual' || m === 'audio-visual';
  });
  // a voice as the fact sheet tells it: recognised speech, speech the recognizer heard but could not make out, or speech in the sound segments
  const speech = voiceHeard(ok) || ok.some((r) => (r.tool === 'asr' && isAsrData(r.data) && r.data.speech.length > 0) || (r.tool === 'vad' && isVadData(r.data) && r.data.segments.some((x) => x.label === 'speech')));
  return { visual, soundText: sound.join('\n'), speech, visualText: visualText.join('\n'), soundEvents: events.map((e) => e.words), ...(picture !== undefined ? { picture } : {}), ...(speech && voiceIsSung(ok) ? { sung: true } : {}) };
}
