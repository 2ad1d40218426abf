/**
 * The ObserverToolbox: binds observers to a clip's media. Audio observers receive only the decoded
 * 16 kHz samples, visual ones only the file path, and each gets one question, nothing else.
 */
import { stat } from 'node:fs/promises';
import { OmnicapError, disposedError, toOmnicapError } from '../errors';
import { decodeAudio, probeMedia, type ProbeResult } from '../media';
import type { Observer, ObserveResult, ObserverInfo, ObserverMedia } from '../observers';
import { combineSignals, throwIfAborted } from '../util/abort';
import { InfraFailures } from '../util/failures';
import { sha256File } from '../util/hash';
import { createLogger } from '../util/log';
import type { CpuGate } from './cpu-gate';
import { observationKey, normalizeQuestion, ObservationCache, type CacheEntry, type CachedObservation, type ObservationStore } from './cache';
import type { DetectiveClip, ObserverToolbox } from './types';

export interface ToolboxOptions {
  observers: readonly (Observer & { dispose?: () => Promise<void> })[];
  /** Directory of the observation cache; no caching when omitted (and no `cache`). */
  cacheDir?: string;
  /** Any other observation store (e.g. Redis for workers on many machines); wins over `cacheDir`. */
  cache?: ObservationStore;
  /**
   * Where cache failures are counted and logged (kinds `observation_cache_read`, `observation_cache_write`);
   * the observation goes on without the cache. Default: counted here, logged as warnings on stderr.
   */
  failures?: InfraFailures;
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
  /** Infrastructure failures so far (cache reads and writes), by kind. */
  failures(): Record<string, number>;
}

export function createToolbox(options: ToolboxOptions): DetectiveToolbox {
  const byName = new Map<string, ToolboxOptions['observers'][number]>();
  for (const o of options.observers) {
    if (byName.has(o.name)) throw new OmnicapError('INVALID_ARGUMENT', `duplicate observer ${JSON.stringify(o.name)}`);
    byName.set(o.name, o);
  }
  const cache = options.cache ?? (options.cacheDir === undefined ? undefined : new ObservationCache(options.cacheDir));
  const failures = options.failures ?? new InfraFailures(createLogger(process.stderr, 'warn'));
  /** A cache that cannot be read is a miss and one that cannot be written a lost entry: counted and logged, never fatal to the observation. */
  const cacheGet = async (key: string): Promise<CachedObservation | undefined> => {
    try {
      return await cache?.get(key);
    } catch (e) {
      failures.report('observation_cache_read', e);
      return undefined;
    }
  };
  const cachePut = async (entry: CacheEntry): Promise<void> => {
    try {
      await cache?.put(entry);
    } catch (e) {
      failures.report('observation_cache_write', e);
    }
  };
  const clips = new Map<string, ClipState>();
  const counts: Record<string, number> = {};
  let disposing: Promise<void> | undefined;
  const ensureOpen = (): void => {
    if (disposing !== undefined) throw disposedError('the observer toolbox');
  };
  const dispose = (): Promise<void> =>
    (disposing ??= (async () => {
      clips.clear();
      // every observer is disposed even when one fails; the first failure is reported
      const results = await Promise.allSettled([...byName.values()].map(async (o) => o.dispose?.()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw toOmnicapError(failed.reason);
    })());

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
        return { hash: await sha256File(clip.path, signal), probe };
      })();
      prepared.catch(() => undefined); // awaited by prepare() and observe(), which report the failure; this only marks it handled
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
      [...byName.values()].map(({ name, modality, description, answersQuestions, model }) => ({ name, modality, description, ...(answersQuestions === true ? { answersQuestions } : {}), ...(model !== undefined ? { model } : {}) })),
    calls: () => ({ ...counts }),
    failures: () => failures.snapshot(),
    prepare: async (clip, signal) => {
      ensureOpen();
      return state(clip, signal).prepared;
    },
    release: (clip) => void clips.delete(clip.id),
    async observe(clip, tool, question, signal) {
      ensureOpen();
      throwIfAborted(signal);
      const o = byName.get(tool);
      if (o === undefined) throw new OmnicapError('OBSERVER_NOT_FOUND', `unknown observer ${JSON.stringify(tool)}`);
      const s = state(clip, signal);
      const { hash } = await s.prepared;
      // an observer backed by a chosen model keys its answers by that model too: another model is not answered from the cache
      const key = observationKey(hash, o.model === undefined ? tool : `${tool}:${o.model}`, question);
      const hit = await cacheGet(key);
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
        if (err.code.startsWith('MEDIA_')) await cachePut({ ...entry, error: { code: err.code, message: err.message } });
        throw err;
      }
      if (typeof result?.answer !== 'string') throw new OmnicapError('UPSTREAM_ERROR', `observer ${tool} returned no answer`);
      await cachePut({ ...entry, answer: result.answer, data: result.data });
      return { ...result, cached: false };
    },
    dispose,
    [Symbol.asyncDispose]: dispose,
  };
}
