/**
 * A remote clip is streamed to disk with a byte limit: an endless or oversized body is cut off at the
 * limit (the server sees the connection closed), nothing is kept, and memory does not follow the body.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fetchRemoteClip } from '../../src/detective/remote';
import { OmnicapError } from '../../src/errors';
import { OpenAIChatModel } from '../../src/llm/openai';

const CHUNK = Buffer.alloc(64 * 1024, 7);

interface Served {
  bytes: number;
  closed: Promise<void>;
}

/** Serves /endless (chunked, never ends), /declared (Content-Length 3 GB) and /small (100 kB). */
function startServer(): Promise<{ server: Server; base: string; served: Served[] }> {
  const served: Served[] = [];
  const server = createServer((req, res) => {
    let closeResolve: () => void = () => undefined;
    const s: Served = { bytes: 0, closed: new Promise<void>((r) => (closeResolve = r)) };
    served.push(s);
    res.on('close', () => closeResolve());
    if (req.url === '/small') {
      res.end(Buffer.alloc(100_000, 3));
      return;
    }
    if (req.url === '/declared') res.setHeader('Content-Length', String(3 * 1024 ** 3));
    const pump = (): void => {
      while (!res.destroyed) {
        s.bytes += CHUNK.byteLength;
        if (!res.write(CHUNK)) {
          res.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, served })));
}

describe('remote clip download is bounded while streaming', () => {
  let server: Server;
  let base: string;
  let served: Served[];
  let dir: string;
  beforeAll(async () => ({ server, base, served } = await startServer()));
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'omnicap-remote-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  test('an endless body stops at the limit: MEDIA_TOO_LARGE, connection closed, no file kept', async () => {
    const maxBytes = 4 * 1024 * 1024;
    const rssBefore = process.memoryUsage().rss;
    const clip = { id: 'x', path: join(dir, 'media', 'x.wav'), remoteUrl: `${base}/endless` };
    const err = await fetchRemoteClip(clip, { allowRemoteUrls: true, maxBytes }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(OmnicapError);
    expect((err as OmnicapError).code).toBe('MEDIA_TOO_LARGE');
    const s = served[served.length - 1];
    await s.closed;
    // the server wrote what the socket buffers held past the limit, not the endless rest
    expect(s.bytes).toBeLessThan(maxBytes + 16 * 1024 * 1024);
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(256 * 1024 * 1024);
    expect(readdirSync(join(dir, 'media'))).toEqual([]);
  });

  test('a declared 3 GB body is refused before it is read', async () => {
    const clip = { id: 'y', path: join(dir, 'y.wav'), remoteUrl: `${base}/declared` };
    const err = (await fetchRemoteClip(clip, { allowRemoteUrls: true }).then(() => undefined, (e: unknown) => e)) as OmnicapError;
    expect(err.code).toBe('MEDIA_TOO_LARGE');
    expect(err.message).toContain(`${3 * 1024 ** 3} bytes`);
    await served[served.length - 1].closed;
    expect(readdirSync(dir)).toEqual([]);
  });

  test('an LLM endpoint answering without end is cut off: UPSTREAM_ERROR, not an out-of-memory', async () => {
    const llm = new OpenAIChatModel({ baseURL: `${base}/endless`, model: 'm', retry: { maxAttempts: 1 } });
    const err = (await llm.chat([{ role: 'user', content: 'hi' }]).then(() => undefined, (e: unknown) => e)) as OmnicapError;
    expect(err.code).toBe('UPSTREAM_ERROR');
    expect(err.message).toMatch(/larger than the limit of 33554432 bytes/);
    await served[served.length - 1].closed;
    expect(served[served.length - 1].bytes).toBeLessThan(64 * 1024 * 1024);
  });

  test('a body within the limit lands whole at the clip path', async () => {
    const clip = { id: 'z', path: join(dir, 'sub', 'z.wav'), remoteUrl: `${base}/small` };
    await fetchRemoteClip(clip, { allowRemoteUrls: true, maxBytes: 100_000 });
    const got = readFileSync(clip.path);
    expect(got.byteLength).toBe(100_000);
    expect(got.every((b) => b === 3)).toBe(true);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['z.wav']);
  });
});
