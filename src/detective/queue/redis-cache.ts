/**
 * The observation cache in Redis, for workers on machines without a shared filesystem: the same
 * content-addressed keys as the directory cache (`omnicap:obs:<sha256(clip sha256, observer,
 * question)>`), with an expiry. A cache that cannot be read or written is a miss, never a failure.
 */
import type IORedis from 'ioredis';
import { parseCacheEntry, type CachedObservation, type CacheEntry, type ObservationStore } from '../cache';

export const OBSERVATION_PREFIX = 'omnicap:obs:';

export class RedisObservationCache implements ObservationStore {
  constructor(
    private readonly client: IORedis,
    /** Expiry of an entry (default 30 days; 0 = never). */
    private readonly ttlSeconds = 30 * 24 * 3600,
  ) {}

  async get(key: string): Promise<CachedObservation | undefined> {
    try {
      const text = await this.client.get(OBSERVATION_PREFIX + key);
      return text === null ? undefined : parseCacheEntry(text, key);
    } catch {
      return undefined;
    }
  }

  async put(entry: CacheEntry): Promise<void> {
    try {
      const k = OBSERVATION_PREFIX + entry.key;
      if (this.ttlSeconds > 0) await this.client.set(k, JSON.stringify(entry), 'EX', this.ttlSeconds);
      else await this.client.set(k, JSON.stringify(entry));
    } catch {
      // a lost cache write only costs a repeated observation
    }
  }
}
