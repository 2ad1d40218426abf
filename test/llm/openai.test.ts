import express from 'express';
import { EventEmitter } from 'node:events';
import { OmnicapError } from '../../src/errors';
import { OpenAIChatModel } from '../../src/llm/openai';
import { backoffDelay, parseRetryAfter, withRetry } from '../../src/llm/retry';
import { listenLoopback } from '../loopback';
import { guarded, nextEvent } from '../wait';

type Handler = (req: express.Request, res: express.Response, n: number) => void;

async function startServer(handler: Handler): Promise<{ url: string; hits: () => number; bodies: unknown[]; close: () => Promise<void> }> {
  const app = express();
  app.use(express.json());
  let n = 0;
  const bodies: unknown[] = [];
  app.post('/v1/chat/completions', (req, res) => {
    n++;
    bodies.push(req.body);
    handler(req, res, n);
  });
  const endpoint = await listenLoopback(app);
  return { url: endpoint.url, hits: () => n, bodies, close: endpoint.close };
}

const ok = (text: string) => ({ model: 'm', choices: [{ message: { role: 'assistant', content: text }, finish_reason: 'stop' }], usage: { prompt_tokens: 3, completion_tokens: 2 } });

function recordingSleep() {
  const delays: number[] = [];
  return { delays, sleep: async (ms: number) => { delays.push(ms); } };
}

describe('retry helpers', () => {
  test('parseRetryAfter handles seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('garbage')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
  test('full jitter stays within the exponential ceiling', () => {
    expect(backoffDelay(1, 100, 10_000, () => 0.999)).toBe(99);
    expect(backoffDelay(3, 100, 10_000, () => 0.5)).toBe(200);
    expect(backoffDelay(20, 100, 1000, () => 0.999)).toBe(999);
  });
  test('invalid maxAttempts is a typed error; never unbounded', async () => {
    await expect(withRetry(async () => 1, { maxAttempts: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(withRetry(async () => 1, { maxAttempts: Infinity })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('OpenAIChatModel against a real loopback server', () => {
  test('429 with Retry-After then 200: two attempts, honours the delay, sends JSON mode', async () => {
    const srv = await startServer((_req, res, n) => {
      if (n === 1) res.status(429).set('Retry-After', '2').json({ error: 'slow down' });
      else res.json(ok('{"a":1}'));
    });
    const { delays, sleep } = recordingSleep();
    const model = new OpenAIChatModel({ baseURL: srv.url + '/', model: 'judge-x', apiKey: 'k', retry: { sleep } });
    try {
      const r = await model.chat([{ role: 'user', content: 'hi' }], { json: true, temperature: 0, seed: 7 });
      expect(r.text).toBe('{"a":1}');
      expect(r.usage).toEqual({ promptTokens: 3, completionTokens: 2 });
      expect(srv.hits()).toBe(2);
      expect(delays).toEqual([2000]);
      expect(srv.bodies[1]).toMatchObject({ model: 'judge-x', response_format: { type: 'json_object' }, temperature: 0, seed: 7 });
    } finally {
      await srv.close();
    }
  });

  test('503 with an HTTP-date Retry-After', async () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    const srv = await startServer((_req, res, n) => {
      if (n === 1) res.status(503).set('Retry-After', 'Thu, 01 Jan 2026 00:00:04 GMT').send('busy');
      else res.json(ok('x'));
    });
    const { delays, sleep } = recordingSleep();
    const model = new OpenAIChatModel({ baseURL: srv.url, model: 'm', retry: { sleep, now: () => now } });
    try {
      await model.chat([{ role: 'user', content: 'hi' }]);
      expect(delays).toEqual([4000]);
    } finally {
      await srv.close();
    }
  });

  test('500 until exhaustion: bounded attempts, jittered exponential delays, UPSTREAM_ERROR with status and body', async () => {
    const srv = await startServer((_req, res) => { res.status(500).send('internal boom '.repeat(100)); });
    const { delays, sleep } = recordingSleep();
    const model = new OpenAIChatModel({ baseURL: srv.url, model: 'm', retry: { sleep, maxAttempts: 3, baseDelayMs: 100, random: () => 0.5 } });
    try {
      const err = await model.chat([{ role: 'user', content: 'hi' }]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OmnicapError);
      const e = err as OmnicapError;
      expect(e.code).toBe('UPSTREAM_ERROR');
      expect(e.details?.status).toBe(500);
      expect(String(e.details?.body).length).toBeLessThanOrEqual(303);
      expect(String(e.details?.body)).toContain('internal boom');
      expect(srv.hits()).toBe(3);
      expect(delays).toEqual([50, 100]);
    } finally {
      await srv.close();
    }
  });

  test('default is 4 attempts', async () => {
    const srv = await startServer((_req, res) => { res.status(502).send('bad gateway'); });
    const { sleep } = recordingSleep();
    const model = new OpenAIChatModel({ baseURL: srv.url, model: 'm', retry: { sleep } });
    try {
      await expect(model.chat([{ role: 'user', content: 'hi' }])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
      expect(srv.hits()).toBe(4);
    } finally {
      await srv.close();
    }
  });

  test('4xx (400) is not retried; 408 is', async () => {
    const srv = await startServer((req, res, n) => {
      if ((req.body as { model: string }).model === 'bad') res.status(400).json({ error: 'bad request' });
      else if (n <= 2) res.status(408).send('timeout');
      else res.json(ok('fine'));
    });
    const { sleep } = recordingSleep();
    try {
      const bad = new OpenAIChatModel({ baseURL: srv.url, model: 'bad', retry: { sleep } });
      await expect(bad.chat([{ role: 'user', content: 'x' }])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', details: { status: 400 } });
      expect(srv.hits()).toBe(1);
      const good = new OpenAIChatModel({ baseURL: srv.url, model: 'good', retry: { sleep } });
      expect((await good.chat([{ role: 'user', content: 'x' }])).text).toBe('fine');
      expect(srv.hits()).toBe(3);
    } finally {
      await srv.close();
    }
  });

  test('malformed JSON body is UPSTREAM_ERROR and not retried', async () => {
    const srv = await startServer((_req, res) => { res.status(200).type('application/json').send('{"choices": [tru'); });
    const model = new OpenAIChatModel({ baseURL: srv.url, model: 'm', retry: { sleep: recordingSleep().sleep } });
    try {
      await expect(model.chat([{ role: 'user', content: 'x' }])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR', details: { status: 200, body: '{"choices": [tru' } });
      expect(srv.hits()).toBe(1);
    } finally {
      await srv.close();
    }
  });

  test('network error (connection refused) is retried then surfaces UPSTREAM_ERROR', async () => {
    const srv = await startServer((_req, res) => { res.json(ok('x')); });
    const url = srv.url;
    await srv.close();
    const { delays, sleep } = recordingSleep();
    const model = new OpenAIChatModel({ baseURL: url, model: 'm', retry: { sleep, maxAttempts: 2 } });
    await expect(model.chat([{ role: 'user', content: 'x' }])).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    expect(model.attempts).toBe(2);
    expect(delays).toHaveLength(1);
  });

  test('abort cancels a slow in-flight request', async () => {
    // the server never answers: only the abort can end the call
    const seen = new EventEmitter();
    const srv = await startServer((_req, res) => {
      res.on('close', () => seen.emit('dropped', res.headersSent));
      seen.emit('request');
    });
    const model = new OpenAIChatModel({ baseURL: srv.url, model: 'm' });
    const ac = new AbortController();
    try {
      const arrived = nextEvent(seen, 'request', 'the request to reach the server');
      const dropped = nextEvent(seen, 'dropped', 'the client to drop the connection');
      const call = model.chat([{ role: 'user', content: 'x' }], { signal: ac.signal });
      await arrived;
      ac.abort();
      await expect(guarded(call, 'the aborted call to reject')).rejects.toMatchObject({ code: 'ABORTED' });
      expect(await dropped).toEqual([false]); // the in-flight request was cancelled before any answer
      expect(srv.hits()).toBe(1);
    } finally {
      await srv.close();
    }
  });

  test('abort cancels the backoff sleep (real sleep)', async () => {
    // a 10-minute Retry-After: the call can only end within the wait guard if the abort cuts the sleep
    const seen = new EventEmitter();
    const srv = await startServer((_req, res) => {
      res.on('finish', () => seen.emit('refused'));
      res.status(429).set('Retry-After', '600').send('no');
    });
    const model = new OpenAIChatModel({ baseURL: srv.url, model: 'm', retry: { maxDelayMs: 600_000 } });
    const ac = new AbortController();
    try {
      const refused = nextEvent(seen, 'refused', 'the first 429');
      const call = model.chat([{ role: 'user', content: 'x' }], { signal: ac.signal });
      await refused;
      ac.abort();
      await expect(guarded(call, 'the aborted call to reject')).rejects.toMatchObject({ code: 'ABORTED' });
      expect(srv.hits()).toBe(1);
    } finally {
      await srv.close();
    }
  });

  test('per-attempt timeout is TIMEOUT and retried', async () => {
    const srv = await startServer((_req, res) => { setTimeout(() => { if (!res.headersSent) res.json(ok('late')); }, 3000).unref(); });
    const model = new OpenAIChatModel({ baseURL: srv.url, model: 'm', timeoutMs: 60, retry: { maxAttempts: 2, sleep: recordingSleep().sleep } });
    try {
      await expect(model.chat([{ role: 'user', content: 'x' }])).rejects.toMatchObject({ code: 'TIMEOUT' });
      // the client's count: on a loaded machine a 60 ms attempt can end before its request reaches the server
      expect(model.attempts).toBe(2);
    } finally {
      await srv.close();
    }
  });

  test('after dispose (or the end of an `await using` block) chat() rejects with DISPOSED and sends nothing', async () => {
    const srv = await startServer((_req, res) => res.json(ok('hello')));
    try {
      let outside: OpenAIChatModel | undefined;
      {
        await using model = new OpenAIChatModel({ baseURL: srv.url, model: 'm' });
        outside = model;
        expect((await model.chat([{ role: 'user', content: 'x' }])).text).toBe('hello');
      }
      await expect(outside.chat([{ role: 'user', content: 'x' }])).rejects.toMatchObject({ code: 'DISPOSED', message: 'the LLM client for m was disposed' });
      await outside.dispose(); // idempotent
      expect(srv.hits()).toBe(1);
    } finally {
      await srv.close();
    }
  });

  test('constructor validates options', () => {
    expect(() => new OpenAIChatModel({ baseURL: 'ftp://x', model: 'm' })).toThrow(OmnicapError);
    expect(() => new OpenAIChatModel({ baseURL: 'http://x', model: '' })).toThrow(OmnicapError);
  });
});
