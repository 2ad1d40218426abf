/**
 * Issue 14 faults on the admission side, over real HTTP on loopback with the real tiny model:
 * 429/503/413 decided before a body is read or decoded, bounded decodes, Retry-After from the
 * queued work, body/connection limits, shutdown with a slow client, start-up range checks, and
 * window amplification refused before any model work.
 */
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import type { Captioner } from '../../src/engine/types';
import { decodeAudio } from '../../src/media';
import { resolveServerOptions } from '../../src/server';
import { packageRoot } from '../../src/util/paths';
import { clip } from '../media/helpers';
import { ALSA_FRONT, InstrumentedCaptioner, expectError, loadTiny, postJson, start, waitFor, wavBase64, type Started } from './helpers';
import { guarded, until } from '../wait';
import { encodeWav16 } from '../../src/detective/observers/proc';

let captioner: Captioner;

beforeAll(async () => {
  captioner = await loadTiny();
});

afterAll(async () => {
  await captioner?.dispose();
});

/** A raw HTTP/1.1 client: sends `head` (+ optional first body bytes) and collects what comes back. */
interface Raw {
  socket: Socket;
  /** Whether the server has closed the connection (or reset it). */
  isClosed(): boolean;
  /** Resolves with the response text once the server closes the connection (ms since the request was sent). */
  closed(): Promise<{ text: string; ms: number }>;
  /** Resolves once a complete status line + headers arrived (or the connection closed). */
  headers(): Promise<string>;
}

function raw(url: string, head: string, body = ''): Raw {
  const { port } = new URL(url);
  const socket = connect(Number(port), '127.0.0.1');
  const t0 = Date.now();
  let text = '';
  let isClosed = false;
  socket.on('data', (b: Buffer) => (text += b.toString('latin1')));
  socket.on('error', () => undefined); // a reset counts as closed
  socket.on('close', () => (isClosed = true));
  socket.write(head + body);
  return {
    socket,
    isClosed: () => isClosed,
    async closed() {
      await until(() => isClosed, [[socket, 'close']], 'the server to close the connection');
      return { text, ms: Date.now() - t0 };
    },
    async headers() {
      await until(() => text.includes('\r\n\r\n') || isClosed, [[socket, 'data'], [socket, 'close']], 'response headers');
      return text;
    },
  };
}

/**
 * GET /healthz on a new connection once the server has seen the closes of earlier ones: a
 * connection it still counts against maxConnections is dropped at once, and each drop is followed
 * by the next try (no sleep); the guard bounds the tries.
 */
async function healthzOnceClosesAreSeen(url: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await fetch(`${url}/healthz`)).status;
    } catch (e) {
      if (attempt >= 100) throw e;
    }
  }
}

const jsonHead = (path: string, length: number): string =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('admission before any body work', () => {
  test('10 simultaneous path requests: 3 admitted, 7 refused without decoding, decodes bounded; a full server answers 429 before the body arrives', async () => {
    const c = new InstrumentedCaptioner(captioner);
    const { server, url } = await start({ captioner: c, concurrency: 1, maxQueue: 2, maxConcurrentDecodes: 1, mediaRoots: [join(clip('speech-0870-mp3').path, '..')] });
    try {
      c.hold();
      const mp3 = { path: clip('speech-0870-mp3').path, max_tokens: 1 };
      const pending = Array.from({ length: 10 }, () => postJson(`${url}/v1/captions`, mp3));
      // 3 admitted (1 running at the gate, 2 queued) do not answer while held; 7 are refused at once
      const answered: number[] = [];
      const answers = new EventEmitter();
      for (const p of pending) {
        void p.then((r) => {
          answered.push(r.status);
          answers.emit('answer');
        });
      }
      await until(() => answered.length === 7, [[answers, 'answer']], '7 refusals');
      expect(answered).toEqual([429, 429, 429, 429, 429, 429, 429]);
      // the queued one keeps its decode slot until it runs, so the third waits undecoded
      await waitFor(() => server.stats().running === 1 && server.stats().queued === 1, 20_000, '1 running + 1 queued');
      expect(server.stats()).toMatchObject({ preparing: 1, decoding: 1 });
      expect(server.stats().decodePeak).toBe(1);
      // a request whose body never comes is refused from its headers alone
      const bodiless = raw(url, jsonHead('/v1/captions', 100_000));
      const head = await bodiless.headers();
      expect(head).toMatch(/^HTTP\/1\.1 429 /);
      expect(head).toMatch(/retry-after: \d+/i);
      bodiless.socket.destroy();
      c.release();
      const statuses = (await Promise.all(pending)).map((r) => r.status).sort();
      expect(statuses).toEqual([200, 200, 200, 429, 429, 429, 429, 429, 429, 429]);
      expect(server.stats().decodePeak).toBe(1);
    } finally {
      c.release();
      await server.close();
    }
  }, 60_000);

  test('the global body budget: a second large body gets 503 SERVER_BUSY (Retry-After) before it is read; an oversize declared body 413', async () => {
    const mib = 1024 * 1024;
    const { server, url } = await start({ captioner, maxUploadBytes: mib, maxBufferedBytes: Math.ceil((mib * 4) / 3) + mib });
    const holder = raw(url, jsonHead('/v1/captions', 2 * mib), '{"data":"');
    try {
      await waitFor(() => server.stats().bufferedBytes === 2 * mib, 5000, 'first body admitted');
      const second = raw(url, jsonHead('/v1/captions', mib));
      const head = await second.headers();
      expect(head).toMatch(/^HTTP\/1\.1 503 /);
      expect(head).toMatch(/retry-after: \d+/i);
      expect(head).toContain('SERVER_BUSY');
      second.socket.destroy();
      const huge = raw(url, jsonHead('/v1/captions', 50 * mib));
      expect(await huge.headers()).toMatch(/^HTTP\/1\.1 413 [\s\S]*PAYLOAD_TOO_LARGE/);
      huge.socket.destroy();
      holder.socket.destroy();
      await waitFor(() => server.stats().bufferedBytes === 0, 5000, 'budget released');
      const ok = await postJson(`${url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 1 });
      expect(ok.status).toBe(200);
    } finally {
      holder.socket.destroy();
      await server.close();
    }
  }, 60_000);

  test('Retry-After is computed from the queued work: a long clip in the slot asks for a longer wait than a short one', async () => {
    const c = new InstrumentedCaptioner(captioner);
    const { server, url } = await start({ captioner: c, concurrency: 1, maxQueue: 0 });
    const long = await decodeAudio(clip('speech-long').path); // 34 s
    const longWav = encodeWav16(long.samples, 16000);
    try {
      for (let i = 0; i < 3; i++) expect((await postJson(`${url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 1 })).status).toBe(200);
      const retryWhileRunning = async (data: string): Promise<number> => {
        c.hold();
        const startedBefore = c.started;
        const ctl = new AbortController();
        const running = postJson(`${url}/v1/captions`, { data, max_tokens: 1 }, {}, ctl.signal).catch(() => undefined);
        await c.until(() => c.started > startedBefore && c.active === 1, 'this job at the gate');
        expect(server.stats().running).toBe(1);
        const refused = await postJson(`${url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 1 });
        const retry = Number(refused.headers.get('retry-after'));
        expect({ status: refused.status, stats: server.stats() }).toMatchObject({ status: 429, stats: { running: 1, queued: 0 } });
        await expectError(refused, 429, 'QUEUE_FULL');
        ctl.abort(); // leaves without completing: teaches the estimate nothing
        await running;
        c.release();
        await waitFor(() => server.stats().running === 0, 10_000, 'slot free');
        return retry;
      };
      const short = await retryWhileRunning(wavBase64(ALSA_FRONT));
      const longer = await retryWhileRunning(longWav.toString('base64'));
      process.stdout.write(`[retry-after] 1.4 s clip running: ${short} s; 34 s clip running: ${longer} s\n`);
      expect(short).toBeGreaterThanOrEqual(1);
      expect(longer).toBeGreaterThan(short);
    } finally {
      c.release();
      await server.close();
    }
  }, 60_000);
});


describe('slow clients and connections', () => {
  let s: Started;
  beforeAll(async () => {
    s = await start({ captioner, bodyTimeoutMs: 800, maxConnections: 6 });
  });
  afterAll(async () => {
    await s?.server.close();
  });

  test('a body trickled at a byte per 200 ms is cut at the body timeout (408 TIMEOUT, connection closed)', async () => {
    const slow = raw(s.url, jsonHead('/v1/captions', 1000), '{');
    let sent = 1;
    const trickle = setInterval(() => void (slow.socket.write(' ') && (sent += 1)), 200);
    try {
      const r = await slow.closed();
      expect(r.ms).toBeGreaterThanOrEqual(700); // not before the 800 ms body timeout
      expect(sent).toBeLessThan(1000); // cut by the timeout while the body was still arriving (each byte does not extend it)
      expect(r.text).toMatch(/^HTTP\/1\.1 408 [\s\S]*"code":"TIMEOUT"/);
      expect(r.text).toMatch(/connection: close/i);
    } finally {
      clearInterval(trickle);
      slow.socket.destroy();
    }
  });

  test('the per-request --timeout-ms also cuts a body still arriving (504 TIMEOUT)', async () => {
    const t = await start({ captioner, timeoutMs: 700, bodyTimeoutMs: 0 });
    const slow = raw(t.url, jsonHead('/v1/captions', 1000), '{');
    let sent = 1;
    const trickle = setInterval(() => void (slow.socket.write(' ') && (sent += 1)), 200);
    try {
      const r = await slow.closed();
      expect(sent).toBeLessThan(1000); // cut by the request timeout while the body was still arriving
      expect(r.text).toMatch(/^HTTP\/1\.1 504 [\s\S]*"code":"TIMEOUT"/);
    } finally {
      clearInterval(trickle);
      slow.socket.destroy();
      await t.server.close();
    }
  });

  test('connection cap: connections beyond maxConnections are closed; the server keeps answering', async () => {
    const sockets = Array.from({ length: 9 }, () => raw(s.url, ''));
    try {
      const closedCount = (): number => sockets.filter((x) => x.isClosed()).length;
      await until(() => closedCount() >= 3, sockets.map((x) => [x.socket, 'close'] as [Socket, string]), 'the connections beyond the cap to be closed');
      expect(closedCount()).toBeGreaterThanOrEqual(3);
      for (const x of sockets) x.socket.destroy();
      await Promise.all(sockets.map((x) => x.closed()));
      expect(await healthzOnceClosesAreSeen(s.url)).toBe(200);
    } finally {
      for (const x of sockets) x.socket.destroy();
    }
  });

  test('shutdown with a slow body in flight: close() ends it after the grace period instead of waiting for the body', async () => {
    // body and request timeouts far beyond the wait guard: only close() can end this request
    const t = await start({ captioner, shutdownGraceMs: 300, bodyTimeoutMs: 600_000, timeoutMs: 600_000 });
    const slow = raw(t.url, jsonHead('/v1/captions', 1000), '{');
    const trickle = setInterval(() => slow.socket.write(' '), 200);
    try {
      await waitFor(() => t.server.inFlightRequests() === 1, 5000, 'slow request in flight');
      await guarded(t.server.close(), 'close() to end the slow request');
      await slow.closed();
      expect(slow.isClosed()).toBe(true);
    } finally {
      clearInterval(trickle);
      slow.socket.destroy();
    }
  });
});

describe('start-up checks', () => {
  test('numeric options are range-checked (timer overflow) and media roots must exist', () => {
    expect(() => resolveServerOptions({ captioner, timeoutMs: 3_000_000_000 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('2147483647') }));
    expect(() => resolveServerOptions({ captioner, shutdownGraceMs: 2 ** 31 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveServerOptions({ captioner, maxConcurrentDecodes: 0 })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => resolveServerOptions({ captioner, mediaRoots: ['/nonexistent/omnicap-root'] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('does not exist') }));
    expect(() => resolveServerOptions({ captioner, mediaRoots: [ALSA_FRONT] })).toThrow(/not a directory/);
  });

  test('omnicap serve refuses --timeout-ms 3000000000 and a missing --media-root before it listens', () => {
    const cli = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
    for (const args of [['--timeout-ms', '3000000000'], ['--media-root', '/nonexistent/omnicap-root'], ['--max-queue', '-1']]) {
      const r = spawnSync(process.execPath, [cli, 'serve', '--port', '0', ...args], { encoding: 'utf8', timeout: 30_000 });
      expect({ args, status: r.status }).toEqual({ args, status: expect.any(Number) });
      expect(r.status).not.toBe(0);
      expect(r.stdout).not.toContain('listening');
      expect(r.stderr).toMatch(/timeout-ms|media root|max-queue/);
    }
  });
});

describe('window amplification', () => {
  test('window_seconds 0.5 / overlap 0.499, window 0.01, and 68 windows of one clip are INVALID_ARGUMENT before any model work', async () => {
    const c = new InstrumentedCaptioner(captioner);
    const { server, url } = await start({ captioner: c });
    try {
      const data = wavBase64(ALSA_FRONT);
      const tiny = await expectError(await postJson(`${url}/v1/captions`, { data, window_seconds: 0.5, overlap_seconds: 0.499 }), 400, 'INVALID_ARGUMENT');
      expect(tiny.error.message).toContain('window_seconds');
      await expectError(await postJson(`${url}/v1/captions`, { data, window_seconds: 0.01 }), 400, 'INVALID_ARGUMENT');
      await expectError(await postJson(`${url}/v1/captions`, { data, window_seconds: 2, overlap_seconds: 1.5 }), 400, 'INVALID_ARGUMENT');
      const long = await decodeAudio(clip('speech-long').path);
      const doubled = new Float32Array(long.samples.length * 2);
      doubled.set(long.samples);
      doubled.set(long.samples, long.samples.length);
      const many = await expectError(await postJson(`${url}/v1/captions`, { data: encodeWav16(doubled, 16000).toString('base64'), window_seconds: 2, overlap_seconds: 1 }), 400, 'INVALID_ARGUMENT');
      expect(many.error).toMatchObject({ details: { windows: 68, max_windows: 64 } });
      expect(c.started).toBe(0);
      expect((await postJson(`${url}/v1/captions`, { data, window_seconds: 1, overlap_seconds: 0, max_tokens: 1 })).status).toBe(200);
      expect(c.started).toBe(1);
    } finally {
      await server.close();
    }
  }, 60_000);
});
