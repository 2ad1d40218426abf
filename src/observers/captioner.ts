/** The Omni-Captioner model as an observer (the server always serves it; the Detective may ask it). */
import type { CaptionOptions, Captioner } from '../engine/types';
import type { Observer } from './types';

export const CAPTIONER_OBSERVER = 'captioner';

/**
 * The captioner as an observer. The question is ignored (the Captioner is a fixed-task model that
 * follows no instructions); the answer is the detailed caption and `data` the usage/timings.
 */
export function captionerObserver(getCaptioner: () => Captioner, options: Omit<CaptionOptions, 'signal'> = {}): Observer {
  return {
    name: CAPTIONER_OBSERVER,
    modality: 'audio',
    description: 'Detailed audio caption of the clip from the Omni-Captioner model (the question is ignored).',
    async observe({ media, signal, generation }) {
      const captioner = getCaptioner();
      if (media.samples === undefined) throw new TypeError('the captioner observer needs decoded audio samples');
      const result = await captioner.caption({ samples: media.samples, sampleRate: 16000 }, { ...options, ...generation, signal });
      return {
        answer: result.caption,
        data: {
          model: result.model,
          audio_seconds: result.audioSeconds,
          usage: { prompt_tokens: result.promptTokens, completion_tokens: result.completionTokens },
          finish_reason: result.finishReason,
          windows: result.windows,
        },
      };
    },
  };
}
