/**
 * The observation cache in Redis, for workers on machines without a shared filesystem: the same
 * content-addressed keys as the directory cache (`omnicap:obs:<sha256(clip sha256, observer,
 * question)>`), with an expiry. The cache has a connection of its own that fails fast (no offline
 * queue, a command timeout): while Redis is away, a read or write is a CACHE_UNAVAILABLE error at
 * once (the toolbox counts it, logs it once per interval and goes on without the cache) instead of
 * an observation waiting for a reconnect. Its connection errors are counted the same way.
 */
import IORedis from 'ioredis';
import { disposedError, type OmnicapError } from '../../errors';
import type { InfraFailures } from '../../util/failures';
import { cacheUnavailable, parseCacheEntry, type CachedObservation, type CacheEntry, type ObservationStore } from '../cache';
import { checkRedis, redisOptions, type QueueLocation } from './connection';

export const OBSERVATION_PREFIX = 'omnicap:obs:';

/** A cache command that has not answered in this long fails (the observation goes on without it). */
const COMMAND_TIMEOUT_MS = 2000;
/** The cache's connection must be ready this soon after the reachability check. */
const READY_TIMEOUT_MS = 5000;

export interface RedisCacheOptions {
  /** Expiry of an entry (default 30 days; 0 = never). */
  ttlSeconds?: number;
  /** Where the connection's errors are counted and logged (kind `observation_cache_connection`). */
  failures: InfraFailures;
}

export class RedisObservationCache implements ObservationStore, AsyncDisposable {
  private readonly ttlSeconds: number;
  private disposed = false;

  private constructor(
    private readonly client: IORedis,
    readonly location: QueueLocation,
    ttlSeconds: number,
  ) {
    this.ttlSeconds = ttlSeconds;
  }

  /**
   * Connects to the cache at `loc`; an unreachable Redis (refused, wrong host, not Redis, bad
   * password) is a CACHE_UNAVAILABLE error here, at start-up, naming the URL.
   */
  static async connect(loc: QueueLocation, options: RedisCacheOptions): Promise<RedisObservationCache> {
    try {
      await checkRedis(loc, 5000, '--cache');
    } catch (e) {
      throw cacheUnavailable(`the observation cache at ${loc.display} cannot be used (fix --cache, or run with --cache none)`, e);
    }
    const client = new IORedis({ ...redisOptions(loc), maxRetriesPerRequest: 0, enableOfflineQueue: false, commandTimeout: COMMAND_TIMEOUT_MS });
    // without an offline queue a command fails until the connection is ready: wait for it (bounded)
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no connection within ${READY_TIMEOUT_MS} ms`)), READY_TIMEOUT_MS);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    client.on('error', (e: unknown) => options.failures.report('observation_cache_connection', cacheUnavailable(`the observation cache at ${loc.display}`, e)));
    try {
      await ready;
    } catch (e) {
      client.disconnect();
      throw cacheUnavailable(`the observation cache at ${loc.display} cannot be used (fix --cache, or run with --cache none)`, e);
    }
    return new RedisObservationCache(client, loc, options.ttlSeconds ?? 30 * 24 * 3600);
  }

  async get(key: string): Promise<CachedObservation | undefined> {
    if (this.disposed) throw this.disposedError();
    let text: string | null;
    try {
      text = await this.client.get(OBSERVATION_PREFIX + key);
    } catch (e) {
      throw cacheUnavailable(`cannot read the observation cache at ${this.location.display}`, e);
    }
    return text === null ? undefined : parseCacheEntry(text, key);
  }

  async put(entry: CacheEntry): Promise<void> {
    if (this.disposed) throw this.disposedError();
    const k = OBSERVATION_PREFIX + entry.key;
    try {
      if (this.ttlSeconds > 0) await this.client.set(k, JSON.stringify(entry), 'EX', this.ttlSeconds);
      else await this.client.set(k, JSON.stringify(entry));
    } catch (e) {
      throw cacheUnavailable(`cannot write the observation cache at ${this.location.display}`, e);
    }
  }

  private disposedError(): OmnicapError {
    return disposedError(`the observation cache at ${this.location.display}`);
  }

  /** Closes the cache's connection; later reads and writes reject with DISPOSED. Idempotent. */
  async dispose(): Promise<void> {
    this.disposed = true;
    this.client.disconnect();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
