/**
 * The queue URL (`redis://[user:password@]host:port/db`, `rediss://` for TLS) and the first contact
 * with Redis: a bounded check that fails fast with a clear error instead of hanging on retries.
 * After that first contact BullMQ's connections reconnect by themselves (a Redis restart mid-run).
 */
import IORedis, { type RedisOptions } from 'ioredis';
import { OmnicapError } from '../../errors';
import { QueueUnreachableError } from './errors';

export interface QueueLocation {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL without the password, for messages and logs. */
  display: string;
}

const FORMAT = 'redis://[user:password@]host:port/db (or rediss:// for TLS), e.g. redis://127.0.0.1:6379/0';

export function parseQueueUrl(url: string): QueueLocation {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new OmnicapError('INVALID_ARGUMENT', `--queue ${JSON.stringify(url)} is not a URL; expected ${FORMAT}`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new OmnicapError('INVALID_ARGUMENT', `--queue must be a redis:// or rediss:// URL but has the scheme ${JSON.stringify(u.protocol.replace(/:$/, ''))}; expected ${FORMAT}`);
  if (u.hostname === '') throw new OmnicapError('INVALID_ARGUMENT', `--queue ${JSON.stringify(url)} has no host; expected ${FORMAT}`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const path = u.pathname.replace(/^\//, '');
  if (!/^\d{0,2}$/.test(path) || (path !== '' && Number(path) > 15)) throw new OmnicapError('INVALID_ARGUMENT', `--queue ${JSON.stringify(url)}: the path must be a database number 0-15 but is ${JSON.stringify(u.pathname)}`);
  if (u.search !== '' || u.hash !== '') throw new OmnicapError('INVALID_ARGUMENT', `--queue ${JSON.stringify(url)}: no query or fragment allowed; expected ${FORMAT}`);
  const db = path === '' ? 0 : Number(path);
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1');
  const loc: QueueLocation = { host, port, db, tls: u.protocol === 'rediss:', display: `${u.protocol}//${u.username !== '' ? `${decodeURIComponent(u.username)}@` : ''}${u.host}/${db}` };
  if (u.username !== '') loc.username = decodeURIComponent(u.username);
  if (u.password !== '') loc.password = decodeURIComponent(u.password);
  return loc;
}

/** ioredis options for BullMQ's long-lived connections: retry forever (capped backoff), as BullMQ requires. */
export function redisOptions(loc: QueueLocation): RedisOptions {
  const o: RedisOptions = {
    host: loc.host,
    port: loc.port,
    db: loc.db,
    maxRetriesPerRequest: null,
    retryStrategy: (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000),
  };
  if (loc.username !== undefined) o.username = loc.username;
  if (loc.password !== undefined) o.password = loc.password;
  if (loc.tls) o.tls = { servername: loc.host };
  return o;
}

function hint(message: string, loc: QueueLocation, flag: string): string {
  if (/ECONNREFUSED/.test(message)) return `nothing listens on ${loc.host}:${loc.port}; start Redis (bash scripts/start-redis.sh ${loc.port}) or fix ${flag}`;
  if (/ENOTFOUND|EAI_AGAIN/.test(message)) return `the host ${JSON.stringify(loc.host)} does not resolve; fix ${flag}`;
  if (/Protocol error|unknown command|wrong number/i.test(message)) return `${loc.host}:${loc.port} does not speak the Redis protocol; is ${flag} pointing at another service?`;
  if (/NOAUTH|WRONGPASS|invalid password|AUTH/i.test(message)) return 'authentication failed; put user:password in the URL';
  if (/DB index is out of range/i.test(message)) return 'that database number does not exist on this server';
  return `check that Redis runs and ${flag} is right`;
}

/**
 * One bounded connection attempt + PING + version check; throws QueueUnreachableError with a hint
 * that names the flag the URL came from (`--queue`, `--cache`).
 */
export async function checkRedis(loc: QueueLocation, timeoutMs = 5000, flag = '--queue'): Promise<{ version: string }> {
  const client = new IORedis({ ...redisOptions(loc), lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: timeoutMs, enableOfflineQueue: false, disconnectTimeout: 50 });
  let lastError: unknown;
  client.on('error', (e: unknown) => (lastError = e));
  const timer = new Promise<never>((_r, reject) => setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs).unref());
  try {
    await Promise.race([
      (async () => {
        await client.connect();
        await client.ping();
      })(),
      timer,
    ]);
    const info = await client.info('server');
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1] ?? 'unknown';
    const major = Number(version.split('.')[0]);
    if (Number.isFinite(major) && major < 5) throw new QueueUnreachableError(`Redis ${version} at ${loc.display} is too old; BullMQ needs Redis >= 5`);
    return { version };
  } catch (e) {
    if (e instanceof QueueUnreachableError) throw e;
    await new Promise((r) => setTimeout(r, 20)); // the socket's own error event may come after the rejection
    const text = (x: unknown): string | undefined => (typeof x === 'object' && x !== null && typeof (x as { message?: unknown }).message === 'string' ? (x as { message: string }).message : undefined);
    const detail = text(lastError) ?? text(e) ?? String(e);
    throw new QueueUnreachableError(`cannot reach Redis at ${loc.display}: ${detail}; ${hint(detail, loc, flag)}`, { cause: e, details: { url: loc.display } });
  } finally {
    client.disconnect();
  }
}
