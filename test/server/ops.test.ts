/** Operations: /healthz, /readyz, /metrics, logs, X-Request-Id, API keys, close(), and the serve CLI. */
import { PassThrough } from 'node:stream';
import { command as serve } from '../../src/cli/commands/serve';
import { OmnicapError } from '../../src/errors';
import type { Captioner } from '../../src/engine/types';
import { staticObserverRegistry, type Observer } from '../../src/observers';
import { createServer, type OmnicapServer } from '../../src/server';
import { onRequestEnd } from '../../src/server/context';
import { loadCaptioner } from '../../src/engine';
import { ALSA_FRONT, expectError, expectGoodCaption, loadTiny, postJson, start, wavBase64, type Started } from './helpers';
import { until } from '../wait';

let captioner: Captioner;

beforeAll(async () => {
  captioner = await loadTiny();
});

afterAll(async () => {
  await captioner?.dispose();
});

describe('health, readiness, metrics, logs', () => {
  let s: Started;
  const lines: string[] = [];
  const log = new PassThrough();
  beforeAll(async () => {
    log.on('data', (b: Buffer) => lines.push(...b.toString('utf8').split('\n').filter(Boolean)));
    s = await start({ captioner, logStream: log });
  });
  afterAll(async () => {
    await s?.server.close();
  });

  test('/healthz and /readyz', async () => {
    const h = await fetch(`${s.url}/healthz`);
    expect(h.status).toBe(200);
    expect(((await h.json()) as { status: string }).status).toBe('ok');
    const r = await fetch(`${s.url}/readyz`);
    expect(r.status).toBe(200);
    expect(((await r.json()) as { model: string }).model).toBe(captioner.modelId);
  });

  test('/metrics: per-server registry with latency, tokens, queue and error metrics', async () => {
    await expectGoodCaption(s.url);
    await expectError(await postJson(`${s.url}/v1/captions`, { data: '!!' }), 400, 'INVALID_ARGUMENT');
    const res = await fetch(`${s.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/omnicap_http_request_duration_seconds_count\{route="\/v1\/captions",method="POST",status="200"\} [1-9]/);
    expect(text).toMatch(/omnicap_errors_total\{code="INVALID_ARGUMENT"\} [1-9]/);
    expect(text).toMatch(/omnicap_queue_depth 0/);
    expect(text).toMatch(/omnicap_in_flight 0/);
    expect(text).toMatch(/omnicap_model_loaded 1/);
    expect(text).toMatch(/omnicap_decode_tokens_per_second_count/);
    const tokens = Number(/omnicap_generated_tokens_total (\d+)/.exec(text)?.[1]);
    expect(tokens).toBeGreaterThanOrEqual(0);
    expect(text).not.toMatch(/process_cpu_seconds_total/); // not the global default registry
    // a second server has its own registry
    const other = createServer({ captioner });
    expect(await other.metrics.registry.getSingleMetricAsString('omnicap_errors_total')).not.toMatch(/INVALID_ARGUMENT/);
    await other.close();
  });

  test('one JSON log line per request with request id, route, status, ms', async () => {
    lines.length = 0;
    const res = await fetch(`${s.url}/healthz`, { headers: { 'x-request-id': 'log-check-1' } });
    expect(res.headers.get('x-request-id')).toBe('log-check-1');
    await until(() => lines.some((l) => l.includes('log-check-1')), [[log, 'data']], 'log line');
    const entry = JSON.parse(lines.find((l) => l.includes('log-check-1')) as string) as Record<string, unknown>;
    expect(entry).toEqual(expect.objectContaining({ level: 'info', pid: process.pid, msg: 'request', request_id: 'log-check-1', route: '/healthz', status: 200, method: 'GET' }));
    expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(typeof entry.ms).toBe('number');
    // an invalid incoming id is replaced by a generated one
    const bad = await fetch(`${s.url}/healthz`, { headers: { 'x-request-id': 'has spaces and \u00e9' } });
    expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('log levels and request-scoped error lines', () => {
  test('a 400: the request error and the access line carry the request id at warn; logLevel warn drops info lines', async () => {
    const lines: string[] = [];
    const log = new PassThrough();
    log.on('data', (b: Buffer) => lines.push(...b.toString('utf8').split('\n').filter(Boolean)));
    const s = await start({ captioner, logStream: log, logLevel: 'warn' });
    try {
      await fetch(`${s.url}/healthz`, { headers: { 'x-request-id': 'quiet-ok' } });
      const bad = await postJson(`${s.url}/v1/captions`, { data: '!!' }, { 'x-request-id': 'loud-400' });
      await expectError(bad, 400, 'INVALID_ARGUMENT');
      await until(() => lines.filter((l) => l.includes('loud-400')).length === 2, [[log, 'data']], 'two log lines of the bad request');
      const mine = lines.filter((l) => l.includes('loud-400')).map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(mine.map((m) => [m.level, m.msg, m.request_id, m.code])).toEqual([
        ['warn', 'request error', 'loud-400', 'INVALID_ARGUMENT'],
        ['warn', 'request', 'loud-400', 'INVALID_ARGUMENT'],
      ]);
      expect(mine[0].error).toMatch(/base64/i);
      expect(lines.some((l) => l.includes('quiet-ok'))).toBe(false); // info: below the level
      expect(lines.every((l) => (JSON.parse(l) as { level: string }).level !== 'info')).toBe(true);
    } finally {
      await s.server.close();
    }
  });

  test('an unknown level is INVALID_ARGUMENT (option, flag and OMNICAP_LOG_LEVEL)', async () => {
    expect(() => createServer({ captioner, logLevel: 'loud' as 'info' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('options.logLevel') }));
    const io = { stdout: new PassThrough(), stderr: new PassThrough(), signal: new AbortController().signal };
    await expect(serve.run(['--log-level', 'chatty'], io)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('--log-level') });
    const saved = process.env.OMNICAP_LOG_LEVEL;
    process.env.OMNICAP_LOG_LEVEL = 'verbose';
    try {
      await expect(serve.run([], io)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('OMNICAP_LOG_LEVEL') });
    } finally {
      if (saved === undefined) delete process.env.OMNICAP_LOG_LEVEL;
      else process.env.OMNICAP_LOG_LEVEL = saved;
    }
  });
});

test('a request cleanup that fails is counted on /metrics and logged once per interval with the request id, never swallowed', async () => {
  const lines: string[] = [];
  const log = new PassThrough();
  log.on('data', (b: Buffer) => lines.push(...b.toString('utf8').split('\n').filter(Boolean)));
  // a text observer whose per-request cleanup (e.g. removing a temp file) fails
  const leaky: Observer = {
    name: 'leaky',
    modality: 'text',
    description: 'registers a cleanup that fails',
    async observe({ question, signal }) {
      onRequestEnd(signal, async () => {
        throw new Error('EACCES: permission denied, rmdir /tmp/omnicap-serve-x');
      });
      return { answer: question.toUpperCase() };
    },
  };
  const s = await start({ captioner, observers: staticObserverRegistry([leaky]), logStream: log });
  try {
    for (const id of ['cleanup-1', 'cleanup-2']) {
      const res = await postJson(`${s.url}/v1/observers/leaky`, { question: 'hi' }, { 'x-request-id': id });
      expect(((await res.json()) as { answer: string }).answer).toBe('HI');
    }
    const counted = async (): Promise<string> => (await (await fetch(`${s.url}/metrics`)).text());
    let text = await counted();
    const deadline = Date.now() + 5000;
    while (!/omnicap_infra_failures_total\{kind="request_cleanup"\} 2/.test(text) && Date.now() < deadline) text = await counted();
    expect(text).toMatch(/omnicap_infra_failures_total\{kind="request_cleanup"\} 2/);
    const failures = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'infrastructure failure');
    expect(failures).toHaveLength(1); // the second one within the interval is counted, not logged
    expect(failures[0]).toMatchObject({ level: 'warn', kind: 'request_cleanup', request_id: 'cleanup-1', failures: 1, error: expect.stringContaining('EACCES') });
  } finally {
    await s.server.close();
  }
});

describe('readiness while loading and after a failed load', () => {
  test('503 while loading, then ready', async () => {
    let go!: () => void;
    const gate = new Promise<void>((r) => (go = r));
    const server = createServer({ captioner: async () => (await gate, captioner), disposeCaptioner: false });
    const { url } = await server.listen(0);
    try {
      const r = await fetch(`${url}/readyz`);
      expect(r.status).toBe(503);
      expect(((await r.json()) as { status: string }).status).toBe('loading');
      await expectError(await postJson(`${url}/v1/captions`, { data: wavBase64(ALSA_FRONT) }), 503, 'NOT_READY');
      expect((await fetch(`${url}/healthz`)).status).toBe(200);
      go();
      await server.ready();
      expect((await fetch(`${url}/readyz`)).status).toBe(200);
      await expectGoodCaption(url);
    } finally {
      await server.close();
    }
  });

  test('a model directory that does not load: readyz 503 failed, requests 503', async () => {
    const server = createServer({ captioner: () => loadCaptioner('/nonexistent/omnicap-model') });
    const { url } = await server.listen(0);
    try {
      await expect(server.ready()).rejects.toBeInstanceOf(OmnicapError);
      const r = await fetch(`${url}/readyz`);
      expect(r.status).toBe(503);
      expect(((await r.json()) as { status: string }).status).toBe('failed');
      await expectError(await fetch(`${url}/v1/models`), 503, 'NOT_READY');
    } finally {
      await server.close();
    }
  });
});

describe('API keys', () => {
  let s: Started;
  beforeAll(async () => {
    s = await start({ captioner, apiKeys: ['key-one', 'key-two'] });
  });
  afterAll(async () => {
    await s?.server.close();
  });
  const good = { authorization: 'Bearer key-two' };

  test.each([
    ['no header', {}],
    ['wrong key', { authorization: 'Bearer key-three' }],
    ['prefix of a key', { authorization: 'Bearer key-on' }],
    ['not bearer', { authorization: 'Basic a2V5LW9uZQ==' }],
  ])('%s -> 401 UNAUTHORIZED', async (_n, headers: Record<string, string>) => {
    const res = await postJson(`${s.url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 2 }, headers);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    await expectError(res, 401, 'UNAUTHORIZED');
    await expectError(await fetch(`${s.url}/v1/models`, { headers }), 401, 'UNAUTHORIZED');
    await expectGoodCaption(s.url, good);
  });

  test('health endpoints stay open; both keys work', async () => {
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${s.url}/readyz`)).status).toBe(200);
    expect((await fetch(`${s.url}/v1/models`, { headers: { authorization: 'Bearer key-one' } })).status).toBe(200);
  });
});

test('close() is idempotent and stops accepting', async () => {
  const { server, url } = await start({ captioner });
  await expectGoodCaption(url);
  const a = server.close();
  const b = server.close();
  await Promise.all([a, b]);
  await server.close();
  await server[Symbol.asyncDispose]();
  await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  await expect(server.listen(0)).rejects.toMatchObject({ code: 'DISPOSED', message: expect.stringMatching(/^the server was disposed/) });
  await expect(server.ready()).rejects.toMatchObject({ code: 'DISPOSED' });
});

test('await using: the port is closed and the server disposed when the block is left', async () => {
  let url = '';
  let kept: OmnicapServer | undefined;
  {
    await using server = createServer({ captioner });
    kept = server;
    url = (await server.listen(0)).url;
    await expectGoodCaption(url);
  }
  await expect(fetch(`${url}/healthz`)).rejects.toThrow(); // nothing listens on the port any more
  await expect(kept.listen(0)).rejects.toMatchObject({ code: 'DISPOSED' });
  // the captioner was passed in loaded, so it stays the caller's and still works
  expect((await captioner.caption({ samples: new Float32Array(16000), sampleRate: 16000 }, { maxNewTokens: 2 })).model).toBe(captioner.modelId);
});

describe('omnicap serve (CLI command, in-process)', () => {
  test('starts with the default tiny model, serves, and exits 0 when signalled', async () => {
    const controller = new AbortController();
    const out = new PassThrough();
    let stdout = '';
    out.on('data', (b: Buffer) => (stdout += b.toString('utf8')));
    const run = serve.run(['--port', '0', '--quiet', '--provider', 'cpu', '--threads', '1', '--max-queue', '2'], { stdout: out, stderr: new PassThrough(), signal: controller.signal });
    const exitedEarly = run.then((code) => Promise.reject(new Error(`serve exited early with ${code}: ${stdout}`)));
    await Promise.race([until(() => /ready, model/.test(stdout), [[out, 'data']], 'serve ready'), exitedEarly]);
    const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1] as string;
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    await expectGoodCaption(url);
    controller.abort(new Error('SIGTERM'));
    await expect(run).resolves.toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  test('bad flags are INVALID_ARGUMENT', async () => {
    const io = { stdout: new PassThrough(), stderr: new PassThrough(), signal: new AbortController().signal };
    await expect(serve.run(['--provider', 'tpu'], io)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(serve.run(['--port', '-1'], io)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(serve.run(['--bogus'], io)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
