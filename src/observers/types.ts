/**
 * The observer contract: a named perception tool that answers one question about one clip's media.
 * The Omni-Detective pipeline asks observers; the server serves them at `POST /v1/observers/{name}`.
 */
import type { CaptionOptions } from '../engine/types';

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
  /** The model behind the observer, where a user chose one (an endpoint's model name); recorded with the annotations. */
  model?: string;
}

export interface Observer extends ObserverInfo {
  /** CPU threads the observer keeps busy while it answers (default 1); a CPU gate reserves that many cores. */
  threads?: number;
  observe(request: ObserveRequest): Promise<ObserveResult>;
}

export interface ObserverRegistry {
  list(): ObserverInfo[];
  get(name: string): Observer | undefined;
}
