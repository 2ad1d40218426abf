/** Content-addressed cache of observer answers, keyed by (clip content hash, observer, question). */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ErrorCode } from '../errors';
import type { ObserveResult } from '../observers';

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export async function hashFile(path: string, signal?: AbortSignal): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path, { signal })) h.update(chunk as Buffer);
  return h.digest('hex');
}

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
 */
export interface ObservationStore {
  get(key: string): Promise<CachedObservation | undefined>;
  put(entry: CacheEntry): Promise<void>;
}

/** Parse a stored entry; a torn or foreign value (or one under another key) is a miss. */
export function parseCacheEntry(text: string, key: string): CachedObservation | undefined {
  try {
    const e = JSON.parse(text) as CacheEntry;
    if (e.key !== key) return undefined;
    if (e.error !== undefined) return { kind: 'error', code: e.error.code, message: e.error.message };
    if (typeof e.answer !== 'string') return undefined;
    return { kind: 'answer', result: e.data === undefined ? { answer: e.answer } : { answer: e.answer, data: e.data } };
  } catch {
    return undefined;
  }
}

export class ObservationCache implements ObservationStore {
  constructor(readonly dir: string) {}

  private file(key: string): string {
    return join(this.dir, key.slice(0, 2), `${key}.json`);
  }

  async get(key: string): Promise<CachedObservation | undefined> {
    let text: string;
    try {
      text = await readFile(this.file(key), 'utf8');
    } catch {
      return undefined;
    }
    return parseCacheEntry(text, key); // a torn or foreign file is a miss; the next put replaces it
  }

  /** Atomic write: temp file + rename, so readers never see a partial entry. */
  async put(entry: CacheEntry): Promise<void> {
    const file = this.file(entry.key);
    await mkdir(join(this.dir, entry.key.slice(0, 2)), { recursive: true });
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
    await writeFile(tmp, JSON.stringify(entry));
    await rename(tmp, file);
  }
}
