/** Content-addressed cache of observer answers, keyed by (clip content hash, observer, question). */
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OmnicapError, isNotFound, type ErrorCode } from '../errors';
import { sha256 } from '../util/hash';
import type { ObserveResult } from '../observers';

export function normalizeQuestion(q: string): string {
  return q.trim().replace(/\s+/g, ' ');
}

export function observationKey(clipHash: string, observer: string, question: string): string {
  return sha256(JSON.stringify([clipHash, observer, normalizeQuestion(question)]));
}

/** A cached answer, or a cached deterministic failure (a fact about the clip's content, e.g. MEDIA_NO_VIDEO). */
export type CachedObservation = { kind: 'answer'; result: ObserveResult } | { kind: 'error'; code: ErrorCode; message: string };

export interface CacheEntry {
  answer?: string;
  data?: unknown;
  error?: { code: ErrorCode; message: string };
  key: string;
  clipHash: string;
  observer: string;
  question: string;
}

/**
 * Where observations are kept: a directory (`ObservationCache`, also on a shared filesystem) or a
 * key-value store such as Redis (`RedisObservationCache` in ./queue). Same keys everywhere.
 * `get` resolves undefined for a miss and rejects (CACHE_UNAVAILABLE) when the store cannot be
 * read; `put` rejects when it cannot be written. The toolbox counts and logs those and goes on.
 */
export interface ObservationStore {
  get(key: string): Promise<CachedObservation | undefined>;
  put(entry: CacheEntry): Promise<void>;
}

/** A store failure as CACHE_UNAVAILABLE: `what` failed, and why (the cause is kept for the log). */
export function cacheUnavailable(what: string, e: unknown): OmnicapError {
  const reason = typeof e === 'object' && e !== null && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : String(e);
  return new OmnicapError('CACHE_UNAVAILABLE', `${what}: ${reason}`, { cause: e });
}

/** Parse a stored entry; a value that is not one of ours (or one under another key) is a miss that the next put replaces. */
export function parseCacheEntry(text: string, key: string): CachedObservation | undefined {
  let e: CacheEntry;
  try {
    e = JSON.parse(text) as CacheEntry;
  } catch {
    return undefined; // not JSON: not an entry this cache wrote (its writes are atomic), so a miss
  }
  if (e === null || typeof e !== 'object' || e.key !== key) return undefined;
  if (e.error !== undefined) return { kind: 'error', code: e.error.code, message: e.error.message };
  if (typeof e.answer !== 'string') return undefined;
  return { kind: 'answer', result: e.data === undefined ? { answer: e.answer } : { answer: e.answer, data: e.data } };
}

export class ObservationCache implements ObservationStore {
  constructor(readonly dir: string) {}

  /**
   * The cache in `dir`, checked at start-up: the directory is created and a probe file written and
   * removed, so a cache that cannot be written is a CACHE_UNAVAILABLE error now, not a miss per clip.
   */
  static async open(dir: string): Promise<ObservationCache> {
    const probe = join(dir, `.probe.${process.pid}.${Math.random().toString(36).slice(2)}`);
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(probe, '');
      await rm(probe, { force: true });
    } catch (e) {
      throw cacheUnavailable(`the observation cache directory ${dir} cannot be written (fix its permissions, or choose another with --cache)`, e);
    }
    return new ObservationCache(dir);
  }

  private file(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  async get(key: string): Promise<CachedObservation | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(key), 'utf8');
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw cacheUnavailable(`cannot read the observation cache entry ${this.file(key)}`, e);
    }
    return parseCacheEntry(text, key);
  }

  /** Atomic write: temp file + rename, so readers never see a partial entry. */
  async put(entry: CacheEntry): Promise<void> {
    const file = this.file(entry.key);
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    try {
      await mkdir(join(this.dir, entry.key.slice(0, 2)), { recursive: true });
      await writeFile(tmp, JSON.stringify(entry));
      await rename(tmp, file);
    } catch (e) {
      await rm(tmp, { force: true }).catch(() => undefined); // best effort: the write's own failure is the one reported
      throw cacheUnavailable(`cannot write the observation cache entry ${file}`, e);
    }
  }
}
