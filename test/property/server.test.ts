/**
 * The request parsers through a real server on loopback (real tiny captioner, the Detective's
 * signal observer, a scripted text LLM for the text-only chat route), with a bounded number of
 * hostile requests per endpoint:
 * - JSON bodies to /v1/captions and /v1/chat/completions: hostile values for every known key,
 *   prototype-pollution keys, nesting deep enough to break a recursive walker, numbers JSON.parse
 *   turns into Infinity, lone surrogates, malformed or truncated JSON, odd content types;
 * - multipart bodies to /v1/captions and /v1/observers/signal: hostile boundaries, part headers
 *   and file names, duplicate or unexpected files, too many or too large fields, truncation;
 * and checks that every answer is either a success of the documented shape or an error body
 * `{error: {code, message, request_id}}` whose status is the code's, never an internal error,
 * never a stack, and that the server still serves a good request afterwards.
 */
import fc from 'fast-check';
import { signalObserver } from '../../src/detective/observers/signal';
import type { Captioner } from '../../src/engine/types';
import { ERROR_CODES, type ErrorCode } from '../../src/errors';
import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from '../../src/llm/types';
import { staticObserverRegistry } from '../../src/observers';
import { ALSA_FRONT, expectGoodCaption, loadTiny, start, wavBytes, type Started } from '../server/helpers';
import { PROTO_KEYS, STACK_BREAKING_DEPTH, hostileString, nestedJson } from './arbitraries';
import { CASE_TIMEOUT_MS, configureProperties, runs } from './fc-config';

/** A text LLM that answers with the turn count and checks the options it receives are in range. */
class CountingLlm implements ChatModel {
  readonly id = 'counting-test-llm';
  calls = 0;
  async chat(messages: ChatMessage[], options?: ChatOptions): Promise<ChatResult> {
    this.calls += 1;
    const t = options?.temperature;
    if (t !== undefined && !(t >= 0 && t <= 2)) throw new Error(`temperature ${t} reached the LLM`);
    if (messages.length === 0 || messages[messages.length - 1].role !== 'user') throw new Error('the last turn is not the user');
    return { text: `${messages.length} turns`, model: this.id, usage: { promptTokens: messages.length, completionTokens: 2 } };
  }
  async dispose(): Promise<void> {}
  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

const MAX_UPLOAD = 256 * 1024;
let captioner: Captioner;
let s: Started;
const clip = wavBytes(ALSA_FRONT);

beforeAll(async () => {
  configureProperties();
  captioner = await loadTiny();
  s = await start({
    captioner,
    llm: new CountingLlm(),
    observers: staticObserverRegistry([signalObserver()]),
    maxUploadBytes: MAX_UPLOAD,
    maxAudioSeconds: 5,
    defaultMaxTokens: 2,
    refusalHoldMs: 0,
    timeoutMs: 60_000,
  });
});

afterAll(async () => {
  await s?.server.close();
  await captioner?.dispose();
});

/** Text of a JSON value: ordinary, or something JSON.stringify cannot make (deep, huge exponents, lone surrogates). */
const valueText: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  hostileString.map((v) => JSON.stringify(v)),
  fc.constantFrom('1e999', '-1e999', '-0', '1E-400', '123456789012345678901234567890', '0.1e1', 'true', 'null', '"\\ud800"', '"\\u0000"', '{"__proto__":{"polluted":true}}', '{"constructor":{"prototype":{"polluted":true}}}', '[]', '{}'),
  fc.record({ depth: fc.constantFrom(64, 1000, STACK_BREAKING_DEPTH), kind: fc.constantFrom<'array' | 'object'>('array', 'object') }).map(({ depth, kind }) => nestedJson(depth, kind)),
);

/** Values a well-behaved client sends for each key (so hostile ones also meet otherwise valid requests). */
const PLAUSIBLE: Record<string, string[]> = {
  temperature: ['0', '0.7', '2'],
  top_p: ['0.9', '1'],
  top_k: ['0', '5'],
  seed: ['0', '7'],
  window_seconds: ['10', '30', '1'],
  overlap_seconds: ['0', '0.5'],
  stream: ['true', 'false'],
  model: ['"omnicap-captioner"'],
  n: ['1'],
  user: ['"u-1"'],
  metadata: ['{}', '{"k":"v"}'],
  stream_options: ['{"include_usage":true}', 'null'],
  response_format: ['{"type":"text"}', 'null'],
  modalities: ['["text"]'],
  stop: ['null', '[]'],
  logprobs: ['false'],
  tools: ['[]'],
  tool_choice: ['"none"', '"auto"'],
  audio: ['null'],
  messages: ['[{"role":"user","content":"hello"}]', '[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"}]}]', '[{"role":"developer","content":null},{"role":"user","content":"é🎵"}]'],
};

const CAPTION_KEYS = ['data', 'url', 'path', 'max_tokens', 'temperature', 'top_p', 'top_k', 'seed', 'window_seconds', 'overlap_seconds', 'stream'];
const CHAT_KEYS = ['model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'top_k', 'seed', 'n', 'stream', 'stream_options', 'response_format', 'modalities', 'user', 'metadata', 'stop', 'logprobs', 'tools', 'tool_choice', 'audio', 'window_seconds', 'overlap_seconds'];

/** Real audio (intact, truncated or with bytes flipped) as base64: the captioner may actually run. */
const audioBase64: fc.Arbitrary<string> = fc
  .record({ cut: fc.option(fc.integer({ min: 0, max: clip.length }), { freq: 2 }), flips: fc.array(fc.nat({ max: clip.length - 1 }), { maxLength: 4 }) })
  .map(({ cut, flips }) => {
    const b = Buffer.from(clip.subarray(0, cut ?? clip.length));
    for (const at of flips) if (at < b.length) b[at] ^= 0xa5;
    return b.toString('base64');
  });

/** `{"k": v, ...}` as text; a body with real audio always carries a small max_tokens (the run stays short). */
function objectText(keys: readonly string[], audio: (b64: string) => Array<[string, string]>): fc.Arbitrary<string> {
  const entry = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...keys).chain((k) => fc.tuple(fc.constant(k), fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...(PLAUSIBLE[k] ?? ['null'])) }, { weight: 1, arbitrary: valueText }))) },
    { weight: 1, arbitrary: fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 8 })), valueText) },
  );
  return fc.record({ entries: fc.array(entry, { maxLength: 4 }), audio: fc.option(audioBase64, { freq: 2 }) }).map(({ entries, audio: b64 }) => {
    const withAudio = b64 === null ? entries.filter(([k]) => k !== 'max_tokens') : [...entries.filter(([k]) => !['max_tokens', 'max_completion_tokens', 'data', 'messages', 'n'].includes(k)), ...audio(b64), ['max_tokens', '2'] as [string, string]];
    return `{${withAudio.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`;
  });
}

const captionBody = objectText(CAPTION_KEYS, (b64) => [['data', JSON.stringify(b64)]]);
const chatBody = objectText(CHAT_KEYS, (b64) => [['messages', JSON.stringify([{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: b64, format: 'wav' } }, { type: 'text', text: 'describe' }] }])]]);

/** The body as sent: intact, truncated, with trailing garbage, or not an object at all. */
const jsonRequest = (bodyText: fc.Arbitrary<string>): fc.Arbitrary<{ text: string; type: string | undefined }> =>
  fc.record({
    text: fc.oneof(
      { weight: 6, arbitrary: bodyText },
      { weight: 1, arbitrary: fc.tuple(bodyText, fc.double({ min: 0, max: 1, noNaN: true })).map(([t, f]) => t.slice(0, Math.floor(t.length * f))) },
      { weight: 1, arbitrary: bodyText.map((t) => `${t}}garbage`) },
      { weight: 1, arbitrary: fc.constantFrom('', 'null', '[]', '"text"', '42', '\ufeff{}', '{"a":1,"a":2}', nestedJson(STACK_BREAKING_DEPTH, 'array')) },
    ),
    type: fc.constantFrom<string | undefined>('application/json', 'application/json', 'application/json', 'application/json; charset=utf-8', 'application/json; charset=utf-16', 'application/vnd.api+json', 'text/plain', undefined),
  });

interface ErrorBody {
  error: { code: string; message: string; request_id: string };
}

const PUBLIC_CODES = new Set(Object.keys(ERROR_CODES));

/** What a run answered: 'ok' or the error code, with counts (the run must have reached both kinds). */
class Answers {
  readonly seen = new Map<string, number>();
  add(outcome: string): void {
    this.seen.set(outcome, (this.seen.get(outcome) ?? 0) + 1);
  }
  expectBothKinds(): void {
    expect(this.seen.get('ok') ?? 0).toBeGreaterThan(0);
    expect([...this.seen.keys()].filter((k) => k !== 'ok').length).toBeGreaterThan(1);
  }
}

/** One answer: a success of the route's shape, or a typed error whose status is its code's. */
async function checkAnswer(res: Response, answers: Answers, success: (json: unknown, contentType: string) => void): Promise<void> {
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules/);
  if (res.status === 200) {
    success(type.startsWith('text/event-stream') ? text : JSON.parse(text), type);
    answers.add('ok');
    return;
  }
  expect(type).toMatch(/^application\/json/);
  const body = JSON.parse(text) as ErrorBody;
  expect(PUBLIC_CODES.has(body.error.code)).toBe(true);
  // the client's bytes never cause a server error (a 5xx would be a parser letting something escape)
  if (res.status >= 500) throw new Error(`client input caused ${res.status} ${body.error.code}: ${body.error.message}`);
  expect(res.status).toBeGreaterThanOrEqual(400);
  // each code answers with its own status (INVALID_ARGUMENT also carries body-parser's other 4xx)
  if (body.error.code !== 'INVALID_ARGUMENT') expect(res.status).toBe(ERROR_CODES[body.error.code as ErrorCode]);
  expect(body.error.request_id).toBe(res.headers.get('x-request-id'));
  answers.add(body.error.code);
}

function captionSuccess(json: unknown, type: string): void {
  if (type.startsWith('text/event-stream')) {
    expect(json).toMatch(/"type":"done"/);
    return;
  }
  expect(json).toMatchObject({ caption: expect.any(String), usage: { completion_tokens: expect.any(Number) } });
}

function chatSuccess(json: unknown, type: string): void {
  if (type.startsWith('text/event-stream')) {
    expect(json).toMatch(/data: \[DONE\]/);
    return;
  }
  expect(json).toMatchObject({ object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', content: expect.any(String) } }] });
}

async function post(path: string, body: Uint8Array | string, type: string | undefined): Promise<Response> {
  return fetch(`${s.url}${path}`, { method: 'POST', headers: type === undefined ? {} : { 'content-type': type }, body });
}

describe('hostile JSON requests through the server', () => {
  it('/v1/captions answers each with its success shape or a typed 4xx', async () => {
    const answers = new Answers();
    await fc.assert(
      fc.asyncProperty(jsonRequest(captionBody), async ({ text, type }) => {
        await checkAnswer(await post('/v1/captions', text, type), answers, captionSuccess);
      }),
      { numRuns: runs(80), plugins: [fc.timeout(CASE_TIMEOUT_MS)] },
    );
    answers.expectBothKinds();
    await expectGoodCaption(s.url);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('/v1/chat/completions answers each with its success shape or a typed 4xx', async () => {
    const answers = new Answers();
    await fc.assert(
      fc.asyncProperty(jsonRequest(chatBody), async ({ text, type }) => {
        await checkAnswer(await post('/v1/chat/completions', text, type), answers, chatSuccess);
      }),
      { numRuns: runs(80), plugins: [fc.timeout(CASE_TIMEOUT_MS)] },
    );
    answers.expectBothKinds();
    await expectGoodCaption(s.url);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  body: Uint8Array;
}

const te = new TextEncoder();

const boundary = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[A-Za-z0-9'()+_,./:=?-]{1,40}$/) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', 'a b', '"', 'x'.repeat(71), 'x'.repeat(300), '--', '\u00e9t\u00e9', 'a\tb') },
);

/** The upload: real audio (maybe damaged) or random bytes, with odd file names and types. */
const filePart: fc.Arbitrary<Part> = fc.record({
  name: fc.oneof({ weight: 8, arbitrary: fc.constant('file') }, { weight: 1, arbitrary: fc.constantFrom('upload', 'FILE', 'file[]', '__proto__') }),
  filename: fc.oneof(fc.constantFrom('clip.wav', 'a.mp3', '../../etc/passwd', 'x'.repeat(300), 'été 🎵.wav', 'a"b.wav', 'noext', ''), hostileString),
  contentType: fc.option(fc.constantFrom('audio/wav', 'application/octet-stream', 'text/plain', 'x/"y'), { nil: undefined }),
  body: fc.oneof({ weight: 3, arbitrary: audioBase64.map((b) => Uint8Array.from(Buffer.from(b, 'base64'))) }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }) }),
});

/** Text fields: the generation options and the question, with ordinary or hostile values. */
const fieldPart: fc.Arbitrary<Part> = fc.record({
  name: fc.oneof({ weight: 8, arbitrary: fc.constantFrom('temperature', 'top_p', 'top_k', 'seed', 'window_seconds', 'overlap_seconds', 'stream', 'question') }, { weight: 1, arbitrary: fc.constantFrom('data', 'path', 'url', ...PROTO_KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 10 }) }),
  body: fc.oneof({ weight: 2, arbitrary: fc.constantFrom('1', '0.5', '0', 'true', 'false', '2') }, { weight: 2, arbitrary: hostileString }, { weight: 1, arbitrary: fc.constantFrom('1e999', '0x1', '', 'x'.repeat(70 * 1024)) }).map((v) => te.encode(v)),
});

const part: fc.Arbitrary<Part> = fc.oneof(filePart, fieldPart, fc.constant<Part>({ name: 'max_tokens', body: te.encode('1') }));

/** A multipart body: well formed, or with its terminator missing, CRLFs replaced, or cut short. */
const multipartRequest = fc
  .record({
    boundary,
    declared: fc.oneof({ weight: 6, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('other', 'quoted', 'missing', 'empty') }),
    parts: fc.tuple(fc.option(filePart, { freq: 4 }), fc.array(fc.oneof(part, fieldPart), { maxLength: 3 })).map(([file, rest]) => (file === null ? rest : [file, ...rest])),
    damage: fc.oneof({ weight: 6, arbitrary: fc.constant('none' as const) }, { weight: 1, arbitrary: fc.constantFrom('no-terminator' as const, 'lf-only' as const, 'cut' as const, 'header-junk' as const) }),
    cutAt: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ boundary: b, declared, parts, damage, cutAt }) => {
    const chunks: Uint8Array[] = [];
    for (const p of parts) {
      const disposition = `form-data; name="${p.name}"${p.filename !== undefined ? `; filename="${p.filename}"` : ''}`;
      const headers = `--${b}\r\nContent-Disposition: ${disposition}\r\n${p.contentType !== undefined ? `Content-Type: ${p.contentType}\r\n` : ''}${damage === 'header-junk' ? 'X-\u0000: \u00ff\r\nno colon here\r\n' : ''}\r\n`;
      chunks.push(te.encode(headers), p.body, te.encode('\r\n'));
    }
    if (damage !== 'no-terminator') chunks.push(te.encode(`--${b}--\r\n`));
    let bytes = Uint8Array.from(Buffer.concat(chunks));
    if (damage === 'lf-only') bytes = Uint8Array.from(Buffer.from(Buffer.from(bytes).toString('latin1').replace(/\r\n/g, '\n'), 'latin1'));
    if (damage === 'cut') bytes = bytes.subarray(0, Math.floor(bytes.length * cutAt));
    // a boundary with tspecials must be quoted in the header (RFC 2046); a plain one is sent as is
    const plain = /^[A-Za-z0-9_-]+$/.test(b) ? `boundary=${b}` : `boundary="${b}"`;
    const param = declared === null ? plain : { other: 'boundary=somethingelse', quoted: `boundary="${b}"`, missing: '', empty: 'boundary=' }[declared];
    return { bytes, type: `multipart/form-data${param === '' ? '' : `; ${param}`}` };
  });

describe('hostile multipart requests through the server', () => {
  it('/v1/captions answers each with its success shape or a typed 4xx', async () => {
    const answers = new Answers();
    await fc.assert(
      fc.asyncProperty(multipartRequest, async ({ bytes, type }) => {
        await checkAnswer(await post('/v1/captions', bytes, type), answers, captionSuccess);
      }),
      { numRuns: runs(80), plugins: [fc.timeout(CASE_TIMEOUT_MS)] },
    );
    answers.expectBothKinds();
    await expectGoodCaption(s.url);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('/v1/observers/signal answers each with an observation or a typed 4xx', async () => {
    const answers = new Answers();
    await fc.assert(
      fc.asyncProperty(multipartRequest, async ({ bytes, type }) => {
        await checkAnswer(await post('/v1/observers/signal', bytes, type), answers, (json) => {
          expect(json).toMatchObject({ object: 'observation', observer: 'signal', answer: expect.any(String) });
        });
      }),
      { numRuns: runs(80), plugins: [fc.timeout(CASE_TIMEOUT_MS)] },
    );
    answers.expectBothKinds();
    await expectGoodCaption(s.url);
  });
});
