/**
 * Issue 14, refusals under a flood, over real HTTP on loopback with the real tiny model:
 * a refused keep-alive connection is not read again for `refusalHoldMs` (so clients that ignore
 * Retry-After are refused at most once per hold per connection), and `Expect: 100-continue`
 * requests are refused before the client sends its body.
 */
import { connect, type Socket } from 'node:net';
import type { Captioner } from '../../src/engine/types';
import { ALSA_FRONT, InstrumentedCaptioner, loadTiny, postJson, waitFor, wavBase64, start, type Started } from './helpers';
import { guarded, until } from '../wait';

let captioner: Captioner;

beforeAll(async () => {
  captioner = await loadTiny();
});

afterAll(async () => {
  await captioner?.dispose();
});

interface Answer {
  status: number;
  head: string;
  body: string;
  /** ms from sending the request to the end of its response. */
  ms: number;
}

/** One keep-alive raw HTTP/1.1 connection; `send` writes a request and resolves with its whole response. */
class Conn {
  readonly socket: Socket;
  private buf = Buffer.alloc(0);
  private wake: (() => void) | undefined;
  closed = false;

  constructor(url: string) {
    this.socket = connect(Number(new URL(url).port), '127.0.0.1');
    this.socket.on('data', (b: Buffer) => {
      this.buf = Buffer.concat([this.buf, b]);
      this.wake?.();
    });
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  /** The next complete response (status line, headers, Content-Length body); interim 1xx answers included. */
  async next(): Promise<Answer> {
    const t0 = performance.now();
    for (;;) {
      const end = this.buf.indexOf('\r\n\r\n');
      if (end >= 0) {
        const head = this.buf.subarray(0, end).toString('latin1');
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
        const length = status < 200 ? 0 : Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (this.buf.length >= end + 4 + length) {
          const body = this.buf.subarray(end + 4, end + 4 + length).toString('utf8');
          this.buf = this.buf.subarray(end + 4 + length);
          return { status, head, body, ms: performance.now() - t0 };
        }
      }
      if (this.closed) throw new Error(`no complete response (connection closed): ${this.buf.toString('latin1').slice(0, 200)}`);
      // woken by the next data or close event
      await guarded(new Promise<void>((r) => (this.wake = r)), `a complete response (so far: ${this.buf.toString('latin1').slice(0, 80)})`);
    }
  }

  async send(request: Buffer | string): Promise<Answer> {
    const t0 = performance.now();
    this.socket.write(request);
    const a = await this.next();
    return { ...a, ms: performance.now() - t0 };
  }
}

const request = (json: string, extra = ''): string =>
  `POST /v1/captions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(json)}\r\n${extra}\r\n${json}`;

/** A server whose one slot is taken by a held request (maxQueue 0): every further caption request is refused. */
async function fullServer(refusalHoldMs: number): Promise<{ s: Started; c: InstrumentedCaptioner; running: Promise<unknown> }> {
  const c = new InstrumentedCaptioner(captioner);
  const s = await start({ captioner: c, concurrency: 1, maxQueue: 0, refusalHoldMs });
  c.hold();
  const running = postJson(`${s.url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 1 }).catch(() => undefined);
  await c.until(() => c.active === 1, 'one running request at the gate');
  expect(s.server.stats().running).toBe(1);
  return { s, c, running };
}

describe('refusal hold', () => {
  const body = JSON.stringify({ data: wavBase64(ALSA_FRONT), max_tokens: 1 }); // 61 KB inline clip

  test('a refused connection is not read for the hold; a fresh connection is refused meanwhile; the next request on it waits the hold', async () => {
    // a hold long enough that the other connection's answer lands inside it even on a loaded machine
    const { s, c, running } = await fullServer(2000);
    const a = new Conn(s.url);
    const b = new Conn(s.url);
    try {
      const first = await a.send(request(body));
      expect(first.status).toBe(429);
      expect(JSON.parse(first.body)).toMatchObject({ error: { code: 'QUEUE_FULL' } });
      expect(first.head).toMatch(/retry-after: \d+/i);
      let againAnswered = false;
      const again = a.send(request(body)).then((r) => {
        againAnswered = true;
        return r;
      });
      const other = await b.send(request(body));
      expect(other.status).toBe(429);
      expect(againAnswered).toBe(false); // the other connection is not held: answered while a's request still waits
      const held = await again;
      expect(held.status).toBe(429);
      expect(held.ms).toBeGreaterThanOrEqual(1950);
      expect(a.closed).toBe(false); // kept alive across the hold
      c.release();
      await running;
      // once there is room, the held connection's next request is served
      const ok = await a.send(request(body));
      expect(ok.status).toBe(200);
      expect(JSON.parse(ok.body)).toHaveProperty('caption');
    } finally {
      c.release();
      a.socket.destroy();
      b.socket.destroy();
      await s.server.close();
    }
  }, 60_000);

  test('4 connections retrying at once for 2 s: refusals bounded by connections x duration / hold (and unbounded with the hold off)', async () => {
    const flood = async (holdMs: number): Promise<number> => {
      const { s, c, running } = await fullServer(holdMs);
      const conns = Array.from({ length: 4 }, () => new Conn(s.url));
      let refused = 0;
      const until = Date.now() + 2000;
      try {
        await Promise.all(
          conns.map(async (conn) => {
            while (Date.now() < until) {
              const r = await conn.send(request(body));
              expect(r.status).toBe(429);
              refused += 1;
            }
          }),
        );
        // the held request still runs to completion
        c.release();
        const res = (await running) as Response;
        expect(res.status).toBe(200);
        return refused;
      } finally {
        c.release();
        for (const conn of conns) conn.socket.destroy();
        await s.server.close();
      }
    };
    const bound = 4 * (2000 / 250 + 1);
    const held = await flood(250);
    expect(held).toBeGreaterThanOrEqual(4);
    expect(held).toBeLessThanOrEqual(bound);
    // without the hold the same flood is not bounded by it (how many more: the flood scenario of
    // scripts/hardening-bench.ts, docs/benchmarks.md "Server hardening")
    const unheld = await flood(0);
    expect(unheld).toBeGreaterThan(bound);
  }, 60_000);

  test('the Express-path refusal (503 SERVER_BUSY, body budget) holds the connection too', async () => {
    const mib = 1024 * 1024;
    const s = await start({ captioner, maxUploadBytes: mib, maxBufferedBytes: Math.ceil((mib * 4) / 3) + mib, refusalHoldMs: 600 });
    const holder = new Conn(s.url);
    const a = new Conn(s.url);
    try {
      holder.socket.write(`POST /v1/captions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${2 * mib}\r\n\r\n{"data":"`);
      await waitFor(() => s.server.stats().bufferedBytes === 2 * mib, 5000, 'first body admitted');
      const large = JSON.stringify({ data: wavBase64(ALSA_FRONT), max_tokens: 1, user: 'x'.repeat(400_000) }); // over the budget left
      const first = await a.send(request(large));
      expect(first.status).toBe(503);
      expect(JSON.parse(first.body)).toMatchObject({ error: { code: 'SERVER_BUSY' } });
      const second = await a.send(request(large));
      expect(second.status).toBe(503);
      expect(second.ms).toBeGreaterThanOrEqual(550);
    } finally {
      holder.socket.destroy();
      a.socket.destroy();
      await s.server.close();
    }
  }, 60_000);
});

describe('Expect: 100-continue', () => {
  const expect100 = 'Expect: 100-continue\r\n';
  const head = (length: number): string =>
    `POST /v1/captions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${expect100}\r\n`;

  test('an admitted request gets 100 Continue, then its caption', async () => {
    const s = await start({ captioner });
    const conn = new Conn(s.url);
    try {
      const json = JSON.stringify({ data: wavBase64(ALSA_FRONT), max_tokens: 2 });
      conn.socket.write(head(Buffer.byteLength(json)));
      const interim = await conn.next();
      expect(interim.status).toBe(100);
      conn.socket.write(json);
      const done = await conn.next();
      expect(done.status).toBe(200);
      expect(JSON.parse(done.body)).toMatchObject({ audio_seconds: expect.closeTo(1.43, 1) });
    } finally {
      conn.socket.destroy();
      await s.server.close();
    }
  }, 60_000);

  test('a full server refuses before the body is sent: 429 with no 100 Continue, connection closed', async () => {
    const { s, c, running } = await fullServer(250);
    const conn = new Conn(s.url);
    try {
      conn.socket.write(head(5 * 1024 * 1024));
      const answer = await conn.next();
      expect(answer.status).toBe(429);
      expect(answer.head).toMatch(/connection: close/i);
      await until(() => conn.closed, [[conn.socket, 'close']], 'connection closed');
      c.release();
      await running;
    } finally {
      c.release();
      conn.socket.destroy();
      await s.server.close();
    }
  }, 60_000);
});
