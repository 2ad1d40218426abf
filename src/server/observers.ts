/**
 * Observers: named perception tools served at `POST /v1/observers/{name}`. The Omni-Detective
 * pipeline implements {@link ObserverRegistry}; the server always adds the captioner itself as the
 * observer "captioner".
 */
import type { CaptionOptions, Captioner } from '../engine/types';

export type ObserverModality = 'audio' | 'visual' | 'audio-visual' | 'text';

/** What an observer receives. Audio observers get `samples` (16 kHz mono); visual ones a `path`. */
export interface ObserverMedia {
  samples?: Float32Array;
  path?: string;
}

export interface ObserveRequest {
  media: ObserverMedia;
  question: string;
  signal: AbortSignal;
  /** Sampling/windowing options of the request (POST /v1/observers/captioner); only the captioner takes them. */
  generation?: Omit<CaptionOptions, 'signal'>;
}

export interface ObserveResult {
  answer: string;
  data?: unknown;
}

export interface ObserverInfo {
  name: string;
  modality: ObserverModality;
  description: string;
  /** True when the answer depends on the question; otherwise the observer gives a fixed report. */
  answersQuestions?: boolean;
}

export interface Observer extends ObserverInfo {
  observe(request: ObserveRequest): Promise<ObserveResult>;
}

export interface ObserverRegistry {
  list(): ObserverInfo[];
  get(name: string): Observer | undefined;
}

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

function info(o: Observer): ObserverInfo {
  const i: ObserverInfo = { name: o.name, modality: o.modality, description: o.description };
  if (o.answersQuestions === true) i.answersQuestions = true;
  return i;
}

/** A registry over a fixed list of observers (names must be unique). */
export function staticObserverRegistry(observers: readonly Observer[]): ObserverRegistry {
  const byName = new Map<string, Observer>();
  for (const o of observers) {
    if (byName.has(o.name)) throw new TypeError(`duplicate observer name ${JSON.stringify(o.name)}`);
    byName.set(o.name, o);
  }
  return {
    list: () => [...byName.values()].map(info),
    get: (name) => byName.get(name),
  };
}

/** `first` wins on name clashes (the server puts the built-in captioner first). */
export function composeObserverRegistries(first: ObserverRegistry, second: ObserverRegistry | undefined): ObserverRegistry {
  if (second === undefined) return first;
  return {
    list: () => {
      const seen = new Set(first.list().map((o) => o.name));
      return [...first.list(), ...second.list().filter((o) => !seen.has(o.name))];
    },
    get: (name) => first.get(name) ?? second.get(name),
  };
}
