/**
 * The ObserverToolbox: binds observers to a clip's media. Audio observers receive only the decoded
 * 16 kHz samples, visual ones only the file path, and each gets one question, nothing else.
 */
import { stat } from 'node:fs/promises';
import { OmnicapError, toOmnicapError } from '../errors';
import { decodeAudio, probeMedia, type ProbeResult } from '../media';
import type { Observer, ObserveResult, ObserverInfo, ObserverMedia } from '../observers';
import { combineSignals, throwIfAborted } from '../util/abort';
import type { CpuGate } from './cpu-gate';
import { hashFile, observationKey, normalizeQuestion, ObservationCache, type ObservationStore } from './cache';
import type { DetectiveClip, ObserverToolbox } from './types';

export interface ToolboxOptions {
  observers: readonly (Observer & { dispose?: () => Promise<void> })[];
  /** Directory of the observation cache; no caching when omitted (and no `cache`). */
  cacheDir?: string;
  /** Any other observation store (e.g. Redis for workers on many machines); wins over `cacheDir`. */
  cache?: ObservationStore;
  /** Per observation timeout (ms, default 300000). */
  observeTimeoutMs?: number;
  /** A core budget shared with the LLM: each observation holds its observer's `threads` cores while it runs. */
  cpu?: CpuGate;
  /** Longest clip accepted (seconds, default 600). */
  maxDurationSeconds?: number;
}

export interface PreparedClip {
  hash: string;
  probe: ProbeResult;
}

interface ClipState {
  path: string;
  prepared: Promise<PreparedClip>;
  samples?: Promise<Float32Array>;
}

export interface DetectiveToolbox extends ObserverToolbox {
  /** Hash and probe the clip: MEDIA_NOT_FOUND / MEDIA_CORRUPT etc. surface here, before any LLM call. */
  prepare(clip: DetectiveClip, signal?: AbortSignal): Promise<PreparedClip>;
  /** Forget a clip's decoded media. */
  release(clip: DetectiveClip): void;
}

export function createToolbox(options: ToolboxOptions): DetectiveToolbox {
  const byName = new Map<string, ToolboxOptions['observers'][number]>();
  for (const o of options.observers) {
    if (byName.has(o.name)) throw new OmnicapError('INVALID_ARGUMENT', `duplicate observer ${JSON.stringify(o.name)}`);
    byName.set(o.name, o);
  }
  const cache = options.cache ?? (options.cacheDir === undefined ? undefined : new ObservationCache(options.cacheDir));
  const clips = new Map<string, ClipState>();
  const counts: Record<string, number> = {};

  const state = (clip: DetectiveClip, signal?: AbortSignal): ClipState => {
    let s = clips.get(clip.id);
    if (s === undefined || s.path !== clip.path) {
      const prepared = (async () => {
        try {
          const st = await stat(clip.path);
          if (!st.isFile()) throw new OmnicapError('MEDIA_NOT_FOUND', `not a file: ${clip.path}`);
          if (st.size === 0) throw new OmnicapError('MEDIA_EMPTY', `empty file: ${clip.path}`);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new OmnicapError('MEDIA_NOT_FOUND', `no such file: ${clip.path}`);
          throw toOmnicapError(e, 'MEDIA_CORRUPT');
        }
        const probe = await probeMedia(clip.path, { signal });
        if (!probe.hasAudio && !probe.hasVideo) throw new OmnicapError('MEDIA_CORRUPT', `no audio or video stream in ${clip.path}`);
        return { hash: await hashFile(clip.path, signal), probe };
      })();
      prepared.catch(() => undefined);
      s = { path: clip.path, prepared };
      clips.set(clip.id, s);
    }
    return s;
  };

  const mediaFor = async (o: Observer, s: ClipState, signal?: AbortSignal): Promise<ObserverMedia> => {
    if (o.modality === 'visual') return { path: s.path };
    const prepared = await s.prepared;
    if (!prepared.probe.hasAudio) throw new OmnicapError('MEDIA_NO_AUDIO', 'the clip has no audio stream');
    s.samples ??= decodeAudio(s.path, { signal, maxDurationSeconds: options.maxDurationSeconds ?? 600 }).then((d) => d.samples);
    const samples = await s.samples;
    return o.modality === 'audio-visual' ? { samples, path: s.path } : { samples };
  };

  return {
    list: (): ObserverInfo[] =>
      [...byName.values()].map(({ name, modality, description, answersQuestions }) => (answersQuestions === true ? { name, modality, description, answersQuestions } : { name, modality, description })),
    calls: () => ({ ...counts }),
    prepare: (clip, signal) => state(clip, signal).prepared,
    release: (clip) => void clips.delete(clip.id),
    async observe(clip, tool, question, signal) {
      throwIfAborted(signal);
      const o = byName.get(tool);
      if (o === undefined) throw new OmnicapError('OBSERVER_NOT_FOUND', `unknown observer ${JSON.stringify(tool)}`);
      const s = state(clip, signal);
      const { hash } = await s.prepared;
      const key = observationKey(hash, tool, question);
      const hit = await cache?.get(key);
      if (hit?.kind === 'answer') return { ...hit.result, cached: true };
      if (hit?.kind === 'error') throw new OmnicapError(hit.code, hit.message, { details: { cached: true } });
      const entry = { key, clipHash: hash, observer: tool, question: normalizeQuestion(question) };
      let result;
      try {
        const media = await mediaFor(o, s, signal);
        counts[tool] = (counts[tool] ?? 0) + 1;
        const sig = combineSignals([signal], options.observeTimeoutMs ?? 300_000) ?? new AbortController().signal;
        const run = (): Promise<ObserveResult> => o.observe({ media, question, signal: sig });
        result = await (options.cpu === undefined ? run() : options.cpu.run(o.threads ?? 1, run, sig));
      } catch (e) {
        const err = toOmnicapError(e, 'UPSTREAM_ERROR');
        // media facts (no video, no audio, ...) are deterministic in the content: cache them too
        if (err.code.startsWith('MEDIA_')) await cache?.put({ ...entry, error: { code: err.code, message: err.message } });
        throw err;
      }
      if (typeof result?.answer !== 'string') throw new OmnicapError('UPSTREAM_ERROR', `observer ${tool} returned no answer`);
      await cache?.put({ ...entry, answer: result.answer, data: result.data });
      return { ...result, cached: false };
    },
    async dispose() {
      clips.clear();
      for (const o of byName.values()) await o.dispose?.();
    },
  };
}
