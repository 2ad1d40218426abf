/**
 * Shared helpers for the server tests: the real tiny fixture model, real media clips, a started
 * server on 127.0.0.1:0, and an instrumented Captioner wrapper (counts tokens the REAL engine
 * yields and can hold requests at a gate) for queue / timeout / disconnect tests.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { loadCaptioner } from '../../src/engine';
import type { CaptionChunk, CaptionOptions, CaptionResult, Captioner, Pcm16k } from '../../src/engine/types';
import { createServer, type OmnicapServer, type ServerOptions } from '../../src/server';
import { abortError } from '../../src/util/abort';
import { defaultModelDir } from '../../src/util/paths';
import { until } from '../wait';

export const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
export const SPEECH_3S = `${LIBRIVOX}/sense_and_sensibility_01_austen_64kb-0880.wav`; // 16 kHz, 2.99 s
export const SPEECH_7S = `${LIBRIVOX}/sense_and_sensibility_01_austen_64kb-0870.wav`; // 16 kHz, 7.1 s
export const ALSA_FRONT = '/usr/share/sounds/alsa/Front_Center.wav'; // 48 kHz, 1.43 s
export const ALSA_NOISE = '/usr/share/sounds/alsa/Noise.wav';

export const wavBytes = (path: string): Buffer => readFileSync(path);
export const wavBase64 = (path: string): string => readFileSync(path).toString('base64');

export async function loadTiny(): Promise<Captioner> {
  return loadCaptioner(defaultModelDir(), { provider: 'cpu', threads: 1 });
}

/**
 * Wraps the real captioner: counts generated tokens, tracks active generations, optional gate.
 * Every change of a counter is an event, so tests wait for a state ({@link until}), never poll.
 */
export class InstrumentedCaptioner implements Captioner {
  tokens = 0;
  active = 0;
  started = 0;
  aborted = 0;
  /** Generations that ran to their result (a 'done' chunk). */
  finished = 0;
  /** Emits 'change' after any counter changed. */
  readonly changes = new EventEmitter();
  private gate?: Promise<void>;
  private openGate?: () => void;

  constructor(private readonly inner: Captioner) {}

  /** Resolves once `cond` holds, re-checked at each counter change (60 s guard). */
  until(cond: () => boolean, what: string): Promise<void> {
    return until(cond, [[this.changes, 'change']], what);
  }

  private changed(): void {
    this.changes.emit('change');
  }

  get modelId(): string {
    return this.inner.modelId;
  }

  /** Requests wait (abortably) before reaching the engine until release(). */
  hold(): void {
    this.gate = new Promise<void>((r) => (this.openGate = r));
  }

  release(): void {
    this.openGate?.();
    this.gate = undefined;
  }

  async *captionStream(audio: Pcm16k, options: CaptionOptions = {}): AsyncGenerator<CaptionChunk, void, undefined> {
    this.active += 1;
    this.started += 1;
    this.changed();
    try {
      const gate = this.gate;
      const signal = options.signal;
      if (gate !== undefined) {
        await new Promise<void>((resolve, reject) => {
          if (signal?.aborted) return reject(abortError(signal));
          signal?.addEventListener('abort', () => reject(abortError(signal)), { once: true });
          void gate.then(resolve);
        });
      }
      for await (const chunk of this.inner.captionStream(audio, options)) {
        if (chunk.type === 'token' || chunk.type === 'done') {
          if (chunk.type === 'token') this.tokens += 1;
          else this.finished += 1;
          this.changed();
        }
        yield chunk;
      }
    } catch (e) {
      if (options.signal?.aborted) this.aborted += 1;
      throw e;
    } finally {
      this.active -= 1;
      this.changed();
    }
  }

  async caption(audio: Pcm16k, options?: CaptionOptions): Promise<CaptionResult> {
    for await (const c of this.captionStream(audio, options)) if (c.type === 'done') return c.result;
    throw new Error('no result');
  }

  async dispose(): Promise<void> {
    // the inner (shared) captioner is disposed by the test file
  }
}

export interface Started {
  server: OmnicapServer;
  url: string;
}

export async function start(options: ServerOptions): Promise<Started> {
  const server = createServer(options);
  const { url } = await server.listen(0, '127.0.0.1');
  await server.ready();
  return { server, url };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits for server-internal state that has no event (scheduler and admission counters): re-checks
 * every 10 ms; `timeoutMs` is only a guard that fails the test. State with an event source
 * (captioner counters, process output, sockets) is awaited on the event instead ({@link until}).
 */
export async function waitFor(cond: () => boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body), signal });
}

export interface ErrorJson {
  error: { code: string; message: string; request_id: string };
}

/** Asserts status + error code + the JSON error shape (no stack), returns the body. */
export async function expectError(res: Response, status: number, code: string): Promise<ErrorJson> {
  const text = await res.text();
  expect({ status: res.status, text }).toEqual({ status, text: expect.stringContaining(`"code":"${code}"`) });
  const body = JSON.parse(text) as ErrorJson;
  expect(body.error.code).toBe(code);
  expect(typeof body.error.message).toBe('string');
  expect(body.error.request_id).toBe(res.headers.get('x-request-id'));
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+/); // no stack traces
  return body;
}

/** A good caption request must succeed (used after every bad request); resolves with its completion tokens. */
export async function expectGoodCaption(url: string, headers: Record<string, string> = {}): Promise<number> {
  const res = await postJson(`${url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 2, seed: 1 }, headers);
  const body = (await res.json()) as { caption?: unknown; usage?: { completion_tokens: number } };
  expect(res.status).toBe(200);
  expect(typeof body.caption).toBe('string');
  expect(body.usage?.completion_tokens).toBeGreaterThanOrEqual(0);
  return body.usage?.completion_tokens ?? 0;
}

/** Parse an SSE body into its `data:` payloads (and event names). */
export function parseSse(text: string): Array<{ event?: string; data: string }> {
  return text
    .split('\n\n')
    .filter((b) => b.trim().length > 0)
    .map((block) => {
      let event: string | undefined;
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
      }
      return { event, data: data.join('\n') };
    });
}
