/**
 * The observer contract: a named perception tool that answers one question about one clip's media.
 * The Omni-Detective pipeline asks observers; the server serves them at `POST /v1/observers/{name}`.
 */

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
