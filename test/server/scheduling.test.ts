/**
 * Queue, timeout, disconnect and shutdown behaviour with the real tiny model. The
 * InstrumentedCaptioner wrapper counts the tokens the real engine yields (to prove generation
 * stopped) and can hold requests at a gate (to fill the queue deterministically).
 */
import type { Captioner } from '../../src/engine/types';
import { ALSA_FRONT, InstrumentedCaptioner, SPEECH_7S, expectError, expectGoodCaption, loadTiny, parseSse, postJson, start, waitFor, wavBase64 } from './helpers';

let captioner: Captioner;

beforeAll(async () => {
  captioner = await loadTiny();
});

afterAll(async () => {
  await captioner?.dispose();
});

/** A request that keeps the real engine busy: 7.1 s of speech in 1 s windows, many tokens each. */
const longJob = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  data: wavBase64(SPEECH_7S),
  max_tokens: 32768,
  window_seconds: 1,
  temperature: 1,
  top_k: 0,
  top_p: 1,
  seed: 11,
  ...extra,
});

/**
 * The engine is no longer generating for anyone: every stream it opened has ended, and when the
 * server still serves, the next request's tokens are the only ones it yields afterwards.
 */
async function expectStopped(c: InstrumentedCaptioner, url?: string): Promise<void> {
  await c.until(() => c.active === 0, 'generation to stop');
  const before = c.tokens;
  const started = c.started;
  if (url === undefined) {
    expect(c.active).toBe(0);
    return;
  }
  const completion = await expectGoodCaption(url);
  expect(c.started).toBe(started + 1);
  expect(c.tokens).toBe(before + completion);
}

describe('queue', () => {
  test('concurrency 1 + max queue 1: third request gets 429 QUEUE_FULL with Retry-After; queued ones complete', async () => {
    const c = new InstrumentedCaptioner(captioner);
    const { server, url } = await start({ captioner: c, concurrency: 1, maxQueue: 1 });
    try {
      c.hold();
      const a = postJson(`${url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 2 });
      await c.until(() => c.active === 1, 'A at the gate');
      expect(server.stats().running).toBe(1);
      const b = postJson(`${url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 2 });
      await waitFor(() => server.stats().queued === 1, 10_000, 'B queued');
      const full = await postJson(`${url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 2 });
      expect(Number(full.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      await expectError(full, 429, 'QUEUE_FULL');
      const fullChat = await postJson(`${url}/v1/chat/completions`, { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: wavBase64(ALSA_FRONT), format: 'wav' } }] }] });
      await expectError(fullChat, 429, 'QUEUE_FULL');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/omnicap_queue_depth 1/);
      expect(metrics).toMatch(/omnicap_in_flight 1/);
      c.release();
      expect((await a).status).toBe(200);
      expect((await b).status).toBe(200);
      await expectGoodCaption(url);
    } finally {
      c.release();
      await server.close();
    }
  });

  test('max queue 0: busy -> 429 at once; a queued client that disconnects leaves the queue', async () => {
    const c = new InstrumentedCaptioner(captioner);
    const { server, url } = await start({ captioner: c, concurrency: 1, maxQueue: 0 });
    const q = await start({ captioner: c, concurrency: 1, maxQueue: 4 });
    try {
      c.hold();
      const a = postJson(`${url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 2 });
      await c.until(() => c.active === 1, 'A at the gate');
      expect(server.stats().running).toBe(1);
      await expectError(await postJson(`${url}/v1/captions`, { data: wavBase64(ALSA_FRONT) }), 429, 'QUEUE_FULL');
      // on the second server: one running, one queued then abandoned by its client
      const running = postJson(`${q.url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 2 });
      await c.until(() => c.active === 2, 'the request on q at the gate');
      expect(q.server.stats().running).toBe(1);
      const ac = new AbortController();
      const queued = postJson(`${q.url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 2 }, {}, ac.signal);
      await waitFor(() => q.server.stats().queued === 1, 10_000, 'queued on q');
      ac.abort();
      await expect(queued).rejects.toThrow();
      await waitFor(() => q.server.stats().queued === 0, 10_000, 'queue emptied');
      c.release();
      expect((await a).status).toBe(200);
      expect((await running).status).toBe(200);
      expect(q.server.stats()).toEqual(expect.objectContaining({ running: 0, queued: 0 }));
      await expectGoodCaption(url);
      await expectGoodCaption(q.url);
    } finally {
      c.release();
      await server.close();
      await q.server.close();
    }
  });
});

describe('timeout aborts the engine', () => {
  test('non-streaming: 504 TIMEOUT and the engine stops generating', async () => {
    const c = new InstrumentedCaptioner(captioner);
    const { server, url } = await start({ captioner: c, timeoutMs: 2500 });
    try {
      const res = await postJson(`${url}/v1/captions`, longJob());
      await expectError(res, 504, 'TIMEOUT');
      expect(c.tokens).toBeGreaterThan(0); // it was really generating
      expect(c.finished).toBe(0); // and the timeout ended it, not the end of the job
      expect(c.aborted).toBe(1);
      await c.until(() => c.active === 0, 'generation to stop');
      expect(server.stats().running).toBe(0);
      await expectStopped(c, url);
    } finally {
      await server.close();
    }
  });

  test('streaming: tokens, then an SSE error event with TIMEOUT; the engine stops', async () => {
    const c = new InstrumentedCaptioner(captioner);
    const { server, url } = await start({ captioner: c, timeoutMs: 2500 });
    try {
      const res = await postJson(`${url}/v1/captions`, longJob({ stream: true }));
      expect(res.status).toBe(200);
      const events = parseSse(await res.text());
      const last = events[events.length - 1];
      expect(last.event).toBe('error');
      const err = JSON.parse(last.data) as { type: string; error: { code: string; request_id: string } };
      expect(err.type).toBe('error');
      expect(err.error.code).toBe('TIMEOUT');
      expect(err.error.request_id).toBe(res.headers.get('x-request-id'));
      expect(events.some((e) => e.data.includes('"type":"token"'))).toBe(true);
      expect(c.finished).toBe(0);
      await expectStopped(c, url);
    } finally {
      await server.close();
    }
  });
});

describe('client disconnect cancels generation and frees the slot', () => {
  test('non-streaming request aborted by the client', async () => {
    const c = new InstrumentedCaptioner(captioner);
    const { server, url } = await start({ captioner: c, concurrency: 1, maxQueue: 0 });
    try {
      const ac = new AbortController();
      const pending = postJson(`${url}/v1/captions`, longJob(), {}, ac.signal);
      await c.until(() => c.tokens > 3, 'generation to start');
      ac.abort();
      await expect(pending).rejects.toThrow();
      await c.until(() => c.active === 0, 'generation to stop');
      expect(c.aborted).toBe(1);
      expect(server.stats().running).toBe(0);
      await expectStopped(c, url); // the single slot is free again (max queue 0 would 429 otherwise)
    } finally {
      await server.close();
    }
  });

  test('SSE reader cancelled mid-stream (OpenAI chat streaming)', async () => {
    const c = new InstrumentedCaptioner(captioner);
    const { server, url } = await start({ captioner: c, concurrency: 1, maxQueue: 0 });
    try {
      const ac = new AbortController();
      const body = { stream: true, max_tokens: 32768, temperature: 1, top_k: 0, top_p: 1, messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: wavBase64(SPEECH_7S), format: 'wav' } }] }] };
      const res = await postJson(`${url}/v1/chat/completions`, body, {}, ac.signal);
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      await reader.read();
      await c.until(() => c.tokens > 3, 'tokens');
      ac.abort();
      await c.until(() => c.active === 0, 'generation to stop');
      expect(server.stats().running).toBe(0);
      await expectStopped(c, url);
    } finally {
      await server.close();
    }
  });
});

test('close() waits the grace period, then aborts in-flight generation', async () => {
  const c = new InstrumentedCaptioner(captioner);
  const { server, url } = await start({ captioner: c, shutdownGraceMs: 300 });
  const pending = postJson(`${url}/v1/captions`, longJob()).then(
    (r) => r.status,
    () => 'connection closed',
  );
  await c.until(() => c.tokens > 3, 'generation to start');
  const t0 = Date.now();
  await server.close();
  expect(Date.now() - t0).toBeGreaterThanOrEqual(250); // a lower bound: close() held the 300 ms grace first
  expect(await pending).toBe(503);
  await expectStopped(c); // closed: nothing can start another generation
  expect(c.finished).toBe(0);
});
