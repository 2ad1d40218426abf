/**
 * omnicap's own keys next to BullMQ's in the queue's Redis: the run manifest, the sink lock and
 * the cancel channel. Keys: `omnicap:{<queue>}:run`, `omnicap:{<queue>}:sink`, channel
 * `omnicap:{<queue>}:cancel` (the braces keep one queue's keys in one Redis Cluster slot).
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import IORedis from 'ioredis';
import { redisOptions, type QueueLocation } from './connection';
import { QueueRunMismatchError, QueueSinkBusyError } from './errors';
import { parseManifest, type RunManifest } from './manifest';

export interface SinkHolder {
  host: string;
  pid: number;
  output: string;
  token: string;
  since: string;
}

export interface CancelMessage {
  /** A BullMQ job id, or '*' for every active job. */
  jobId: string;
  reason: string;
}

const RELEASE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";
const RENEW = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class QueueStore {
  readonly client: IORedis;
  private subscriber: IORedis | undefined;

  constructor(
    loc: QueueLocation,
    readonly queueName: string,
  ) {
    this.client = new IORedis(redisOptions(loc));
    this.client.on('error', () => undefined); // reconnects by itself; BullMQ's connections report the outage
  }

  key(name: 'run' | 'sink' | 'cancel'): string {
    return `omnicap:{${this.queueName}}:${name}`;
  }

  /** The stored run manifest, undefined when there is none; a record that is not one this omnicap can read is a QueueRunMismatchError (never taken for "no run"). */
  async getManifest(): Promise<RunManifest | undefined> {
    const text = await this.client.get(this.key('run'));
    if (text === null) return undefined;
    const m = parseManifest(text);
    if (m === undefined) {
      throw new QueueRunMismatchError(
        `queue ${JSON.stringify(this.queueName)} holds a run record (${this.key('run')}) that this omnicap cannot read (another version, or not omnicap's); nothing was done. Use another --queue-name, or remove it with 'omnicap queue obliterate'.`,
        { details: { queue: this.queueName } },
      );
    }
    return m;
  }

  /** Stores the manifest unless one is there; returns the one that is stored afterwards. */
  async putManifest(m: RunManifest): Promise<RunManifest> {
    const set = await this.client.set(this.key('run'), JSON.stringify(m), 'NX');
    if (set === 'OK') return m;
    return (await this.getManifest()) ?? m;
  }

  async deleteManifest(): Promise<void> {
    await this.client.del(this.key('run'));
  }

  /**
   * Takes the sink lock (one writer per queue) for `ttlMs`, renewed by `renewSink`. A lock held by
   * a dead process on this host is taken over; any other holder is a QueueSinkBusyError.
   */
  async acquireSink(output: string, ttlMs: number): Promise<SinkHolder> {
    const me: SinkHolder = { host: hostname(), pid: process.pid, output, token: randomUUID(), since: new Date().toISOString() };
    for (let i = 0; i < 2; i++) {
      if ((await this.client.set(this.key('sink'), JSON.stringify(me), 'PX', ttlMs, 'NX')) === 'OK') return me;
      const text = await this.client.get(this.key('sink'));
      if (text === null) continue;
      const h = JSON.parse(text) as SinkHolder;
      if (h.host === me.host && h.pid !== process.pid && !pidAlive(h.pid)) {
        await this.client.eval(RELEASE, 1, this.key('sink'), text);
        continue;
      }
      throw new QueueSinkBusyError(
        `another sink writes the results of queue ${JSON.stringify(this.queueName)}: pid ${h.pid} on ${h.host} into ${h.output} since ${h.since}; ` +
          `only one process may write them (run this one with --enqueue-only to add clips without writing, or wait ${Math.ceil(ttlMs / 1000)} s after that one stops)`,
        { details: { holder: h } },
      );
    }
    throw new QueueSinkBusyError(`could not take the sink lock of queue ${JSON.stringify(this.queueName)}`);
  }

  /** False when the lock was lost (expired during a long Redis outage and taken by another sink). */
  async renewSink(h: SinkHolder, ttlMs: number): Promise<boolean> {
    const text = JSON.stringify(h);
    const r = await this.client.eval(RENEW, 1, this.key('sink'), text, String(ttlMs));
    if (r === 1) return true;
    // expired (e.g. Redis restarted without the key): take it again if nobody else has
    return (await this.client.set(this.key('sink'), text, 'PX', ttlMs, 'NX')) === 'OK';
  }

  async releaseSink(h: SinkHolder): Promise<void> {
    await this.client.eval(RELEASE, 1, this.key('sink'), JSON.stringify(h));
  }

  async publishCancel(m: CancelMessage): Promise<number> {
    return this.client.publish(this.key('cancel'), JSON.stringify(m));
  }

  /** Calls `on` for every cancel message; the subscription survives reconnects. */
  async onCancel(on: (m: CancelMessage) => void): Promise<void> {
    this.subscriber ??= this.client.duplicate();
    this.subscriber.on('error', () => undefined); // reconnects by itself, resubscribing; BullMQ's connections report the outage
    this.subscriber.on('message', (_channel: string, text: string) => {
      try {
        const m = JSON.parse(text) as CancelMessage;
        if (typeof m.jobId === 'string' && typeof m.reason === 'string') on(m);
      } catch {
        // not ours
      }
    });
    await this.subscriber.subscribe(this.key('cancel'));
  }

  async close(): Promise<void> {
    this.subscriber?.disconnect();
    await this.client.quit().catch(() => this.client.disconnect());
  }
}
