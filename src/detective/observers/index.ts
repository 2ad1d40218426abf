/** The default observer set of the Detective pipeline. */
import { loadCaptioner } from '../../engine';
import type { Captioner } from '../../engine/types';
import { captionerObserver } from '../../observers';
import { asrObserver, type AsrOptions } from './asr';
import { disposableObserver, type DisposableObserver } from './disposable';
import { audioLmObserver, type AudioLmOptions } from './audio-lm';
import { ocrObserver } from './ocr';
import { signalObserver } from './signal';
import { soundEventObserver, type SoundEventOptions } from './sound-events';
import { vadObserver } from './vad';
import { VideoAnalyses, videoObserver } from './video';
import { vlmObserver, type VlmOptions } from './vlm';

export { asrObserver, pocketsphinxAvailable, speechChunks, formatAsrAnswer, DEFAULT_POCKETSPHINX_MODEL, type AsrOptions, type AsrObserver, type AsrEngine, type AsrSegment, type AsrData } from './asr';
export { WhisperWorker, whisperAvailable, defaultWhisperModelDir, defaultWhisperPython, type WhisperModelName, type WhisperResult, type WhisperSegment, type WhisperWorkerOptions } from './whisper';
export { wordErrorRate, normalizeWords, type WerResult } from './wer';
export { audioLmObserver, type AudioLmOptions } from './audio-lm';
export { ocrObserver, formatOcrAnswer, type OcrOptions, type OcrData } from './ocr';
export { parseTesseractTsv, confidentLines, isWordLike, mergeAcrossFrames, type OcrLine, type OcrWord, type OnScreenText } from './ocr-text';
export { signalObserver } from './signal';
export { videoObserver, formatVideoAnswer, analyseVideo, VideoAnalyses, type VideoData, type VideoOptions } from './video';
export { vlmObserver, vlmFact, vlmSeen, isVlmData, isRefusal, VLM_OBSERVER, type VlmOptions, type VlmData } from './vlm';
export { chooseFrameTimes, fitSize, type FrameChoice } from './vlm-frames';
export { soundEventObserver, formatSoundEventAnswer, soundWindows, classScores, decideSoundEvents, SOUND_DECISION_DEFAULTS, type SoundEventOptions, type SoundEventData, type SoundEvent } from './sound-events';
export { SOUND_LABELS, soundVocabulary, type SoundLabel } from './sound-labels';
export { vadObserver, sileroSpeechProbs, segmentLabels, defaultSileroPath, type VadSegment, type VadLabel } from './vad';

export interface DefaultObserverOptions {
  /** Captioner model directory; the captioner observer is added when given. */
  captionerModelDir?: string;
  audioLm?: AudioLmOptions;
  /** A vision-language model endpoint: adds the `vlm` observer (it shares the video observer's analyses). */
  vlm?: Omit<VlmOptions, 'analyses'>;
  /** ASR engine options (default: Whisper base when installed, else PocketSphinx). */
  asr?: AsrOptions;
  /** Sound-event observer options (Whisper base, the model its calibration priors were measured with). */
  soundEvents?: SoundEventOptions;
  /** Observer names to leave out. */
  exclude?: string[];
}

export { disposableObserver, type DisposableObserver } from './disposable';

/** signal, vad, sound_events, asr, ocr, video, + captioner, audio_lm and vlm when configured. Nothing loads until first use. */
export function defaultObservers(opts: DefaultObserverOptions = {}): DisposableObserver[] {
  const sound = soundEventObserver({ python: opts.asr?.python, threads: opts.asr?.threads, ...opts.soundEvents });
  const analyses = new VideoAnalyses();
  const list: DisposableObserver[] = [signalObserver(), vadObserver(), sound, asrObserver(opts.asr), ocrObserver(), videoObserver({ analyses })];
  if (opts.captionerModelDir !== undefined) {
    const dir = opts.captionerModelDir;
    let captioner: Captioner | undefined;
    let loading: Promise<Captioner> | undefined;
    const base = captionerObserver(() => {
      if (captioner === undefined) throw new Error('captioner not loaded');
      return captioner;
    });
    list.push(
      disposableObserver(
        {
          ...base,
          async observe(req) {
            loading ??= loadCaptioner(dir).then((c) => (captioner = c));
            await loading;
            return base.observe(req);
          },
        },
        async () => {
          if (loading !== undefined) await (await loading).dispose();
        },
      ),
    );
  }
  if (opts.audioLm !== undefined) list.push(audioLmObserver(opts.audioLm));
  if (opts.vlm !== undefined) list.push(vlmObserver({ ...opts.vlm, analyses }));
  return list.filter((o) => !(opts.exclude ?? []).includes(o.name));
}
