/**
 * Function-level properties of the chat completion and caption request parsers (the schema checks
 * of src/schema/requests.ts as the routes use them: src/server/params.ts bodyChecker /
 * generationParams, src/server/routes/chat-request.ts checkChatRequest / routeMessages /
 * responseFormat) on hostile bodies: known keys with NaN/Infinity/negative/huge/non-decimal values,
 * prototype-pollution keys, deep nesting, unicode, multipart form fields as strings.
 * - every parser returns values inside the documented ranges, or throws INVALID_ARGUMENT naming
 *   the parameter; nothing else escapes, and no prototype is polluted;
 * - valid values round-trip (as JSON numbers and as multipart form strings);
 * - the window count the server checks equals the windows the engine makes.
 */
import fc from 'fast-check';
import { isOmnicapError } from '../../src/errors';
import { splitWindows } from '../../src/media';
import { CaptionsRequest, MAX_TOKENS_LIMIT, MAX_WINDOWS_PER_REQUEST, MIN_WINDOW_STEP_SECONDS } from '../../src/schema';
import { bodyChecker, checkWindowCount, generationParams, windowCount, type Params } from '../../src/server/params';
import { AUDIO_FORMATS, checkChatRequest, responseFormat, routeMessages } from '../../src/server/routes/chat-request';
import { PROTO_KEYS, hostileString, hostileValue, protoKeyObject, withKey } from './arbitraries';
import { configureProperties, outcome, runs } from './fc-config';

beforeAll(configureProperties);
afterEach(() => {
  // a parse that assigned through a __proto__ key would show up on every object
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

const checkCaptions = bodyChecker(CaptionsRequest);

const GENERATION_KEYS = ['max_tokens', 'temperature', 'top_p', 'top_k', 'seed', 'window_seconds', 'overlap_seconds'] as const;
const CAPTION_KEYS = [...GENERATION_KEYS, 'data', 'path', 'url', 'stream'] as const;
const CHAT_KEYS = [...GENERATION_KEYS, 'max_completion_tokens', 'model', 'messages', 'n', 'stream', 'stream_options', 'response_format', 'modalities', 'user', 'metadata', 'stop', 'logprobs', 'top_logprobs', 'tools', 'functions', 'tool_choice', 'function_call', 'parallel_tool_calls', 'audio', 'frequency_penalty', 'presence_penalty', 'logit_bias', 'store'] as const;

/** A form field as a client may send it: a decimal, or text that only looks numeric. */
const formString = fc.oneof(fc.double().map(String), fc.integer().map(String), hostileString, fc.constantFrom('1', '0', '30', '29.5', ' 2 ', '1e3', '1E-2', '0x1F', 'Infinity', '1_0', '١٢', '２', 'true', 'FALSE'));

/** A body: some known keys with hostile (or ordinary) values, maybe an unknown or prototype key. */
function body(keys: readonly string[], value: fc.Arbitrary<unknown>): fc.Arbitrary<Params> {
  return fc
    .record({
      entries: fc.array(fc.tuple(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }), value), { maxLength: 6 }),
      base: fc.oneof(fc.constant({}), protoKeyObject),
    })
    .map(({ entries, base }) => entries.reduce<Params>((o, [k, v]) => withKey(o, k, v), base));
}

/** INVALID_ARGUMENT naming a field: one of `allowed` (or inside it), or the key the body had that is not allowed. */
function expectInvalidArgument(e: unknown, allowed: readonly string[], b: Params): void {
  if (!isOmnicapError(e)) throw e;
  expect(e.code).toBe('INVALID_ARGUMENT');
  const parameter = e.details?.parameter;
  if (typeof parameter !== 'string') return;
  const named = allowed.some((k) => parameter === k || parameter.startsWith(`${k}.`) || parameter.startsWith(`${k}[`)) || Object.keys(b).includes(parameter);
  if (!named) throw new Error(`the error names ${JSON.stringify(parameter)}, which is neither a known field nor a key of the body: ${e.message}`);
}

function expectInRanges(g: ReturnType<typeof generationParams>): void {
  const within = (v: number | undefined, lo: number, hi: number, integer = false): void => {
    if (v === undefined) return;
    expect(Number.isFinite(v) && v >= lo && v <= hi && (!integer || Number.isInteger(v))).toBe(true);
  };
  within(g.maxNewTokens, 1, MAX_TOKENS_LIMIT, true);
  within(g.temperature, 0, 2);
  if (g.topP !== undefined) expect(g.topP > 0 && g.topP <= 1).toBe(true);
  within(g.topK, 0, 1_000_000, true);
  within(g.seed, 0, 2 ** 31 - 1, true);
  within(g.windowSeconds, 1, 30);
  within(g.overlapSeconds, 0, 30);
  if (g.overlapSeconds !== undefined) expect((g.windowSeconds ?? 30) - g.overlapSeconds).toBeGreaterThanOrEqual(MIN_WINDOW_STEP_SECONDS);
}

describe('caption requests (JSON and multipart form)', () => {
  it('JSON bodies: values in range, or INVALID_ARGUMENT naming the parameter', () => {
    fc.assert(
      fc.property(body(CAPTION_KEYS, hostileValue), (b) => {
        try {
          const checked = checkCaptions(b, false);
          expectInRanges(generationParams(checked));
          expect(checked.stream === undefined || checked.stream === null || typeof checked.stream === 'boolean').toBe(true);
        } catch (e) {
          expectInvalidArgument(e, CAPTION_KEYS, b);
        }
      }),
      { numRuns: runs(2000) },
    );
  });

  it('multipart form fields (strings): values in range, or INVALID_ARGUMENT naming the parameter', () => {
    fc.assert(
      fc.property(body(CAPTION_KEYS, formString), (b) => {
        try {
          const checked = checkCaptions(b, true);
          expectInRanges(generationParams(checked));
        } catch (e) {
          expectInvalidArgument(e, CAPTION_KEYS, b);
        }
      }),
      { numRuns: runs(2000) },
    );
  });

  it('valid values round-trip as JSON numbers and as form strings', () => {
    const valid = fc.record(
      {
        max_tokens: fc.integer({ min: 1, max: MAX_TOKENS_LIMIT }),
        temperature: fc.double({ min: 0, max: 2, noNaN: true }),
        top_p: fc.double({ min: Number.MIN_VALUE, max: 1, noNaN: true }),
        top_k: fc.integer({ min: 0, max: 1_000_000 }),
        seed: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        window_seconds: fc.double({ min: 2, max: 30, noNaN: true }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(valid, (p) => {
        const want = {
          ...(p.max_tokens !== undefined ? { maxNewTokens: p.max_tokens } : {}),
          ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
          ...(p.top_p !== undefined ? { topP: p.top_p } : {}),
          ...(p.top_k !== undefined ? { topK: p.top_k } : {}),
          ...(p.seed !== undefined ? { seed: p.seed } : {}),
          ...(p.window_seconds !== undefined ? { windowSeconds: p.window_seconds } : {}),
        };
        expect(generationParams(checkCaptions(p, false))).toEqual(want);
        const form = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)]));
        expect(generationParams(checkCaptions(form, true))).toEqual(want);
      }),
      { numRuns: runs(1000) },
    );
  });

  it('any number in range written as a form string reads back as itself', () => {
    fc.assert(
      fc.property(fc.double({ min: 1, max: 30, noNaN: true }), (n) => {
        expect(checkCaptions({ window_seconds: String(n) }, true).window_seconds).toBe(n);
      }),
      { numRuns: runs(1000) },
    );
  });

  it('the window count the server checks is the number of windows the engine makes', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2_000_000 }),
        fc.double({ min: 1, max: 30, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (samples, windowSeconds, overlapFraction) => {
          const overlapSeconds = Math.max(0, (windowSeconds - 1) * overlapFraction);
          const params = { windowSeconds, overlapSeconds };
          const n = splitWindows(new Float32Array(samples), params).length;
          expect(windowCount(samples, params)).toBe(n);
          const r = outcome(() => checkWindowCount(samples, params));
          if (n > MAX_WINDOWS_PER_REQUEST) expect(r).toMatchObject({ ok: false, code: 'INVALID_ARGUMENT' });
          else expect(r).toEqual({ ok: true, value: n });
        },
      ),
      { numRuns: runs(300) },
    );
  });
});

/** Content parts: text, audio (well formed or not), images, junk. */
const contentPart: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ type: fc.constant('text'), text: fc.string({ unit: 'grapheme', maxLength: 20 }) }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('input_audio'), input_audio: fc.record({ data: fc.base64String({ maxLength: 16 }), format: fc.constantFrom(...AUDIO_FORMATS) }) }) },
  fc.record({ type: fc.constant('text'), text: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 20 }), hostileValue) }),
  fc.record({ type: fc.constant('input_audio'), input_audio: fc.oneof(fc.record({ data: fc.oneof(fc.base64String({ maxLength: 16 }), hostileValue), format: fc.oneof(fc.constantFrom(...AUDIO_FORMATS, 'WAV', 'Mp3', 'pcm', ''), hostileValue) }), hostileValue) }),
  fc.record({ type: fc.constant('audio_url'), audio_url: fc.oneof(fc.record({ url: fc.oneof(fc.constantFrom('data:audio/wav;base64,AAAA', 'file:///etc/passwd', 'http://127.0.0.1/a.wav'), hostileValue) }), hostileValue) }),
  fc.record({ type: fc.constantFrom('image_url', 'file', 'input_image', '__proto__', 'TEXT') }),
  hostileValue,
);

const message: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool'), content: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.constant(null), fc.array(contentPart, { maxLength: 3 })) }) },
  { weight: 1, arbitrary: fc.record({ role: hostileValue, content: hostileValue }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: hostileValue },
);

/** Values a well-behaved client sends for each chat key (so hostile ones also meet otherwise valid requests). */
const PLAUSIBLE: Record<string, unknown[]> = {
  max_tokens: [1, 64],
  max_completion_tokens: [16],
  temperature: [0, 0.7, 2],
  top_p: [0.9, 1],
  top_k: [0, 5],
  seed: [0, 7],
  window_seconds: [10, 30],
  overlap_seconds: [0, 0.5],
  model: ['omnicap-captioner'],
  n: [1, null],
  stream: [true, false],
  stream_options: [{ include_usage: true }, null],
  response_format: [{ type: 'text' }, { type: 'json_object' }, { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'object' } } }],
  modalities: [['text']],
  user: ['u-1'],
  metadata: [{}, { k: 'v' }],
  stop: [null, []],
  logprobs: [false],
  top_logprobs: [0],
  tools: [[]],
  functions: [null],
  tool_choice: ['none', 'auto'],
  function_call: [null],
  parallel_tool_calls: [true],
  audio: [null],
  frequency_penalty: [0],
  presence_penalty: [0],
  logit_bias: [{}],
  store: [false],
};

/** The chat route's parsing, as src/server/routes/chat.ts runs it: the schema check, then generation options, route and response format. */
function parseChat(b: unknown): { gen: ReturnType<typeof generationParams>; route: ReturnType<typeof routeMessages>; format: ReturnType<typeof responseFormat> } {
  const body = checkChatRequest(b);
  return { gen: generationParams(body, body.max_completion_tokens), route: routeMessages(body.messages), format: responseFormat(body) };
}

describe('chat completion requests', () => {
  it('hostile bodies: a captioner route with the one audio part, an LLM route of text turns ending with the user, or INVALID_ARGUMENT naming the field', () => {
    // each key mostly with a value a well-behaved client sends, sometimes a hostile one
    const entry = fc.constantFrom(...CHAT_KEYS).chain((k) => fc.tuple(fc.constant<string>(k), fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...(PLAUSIBLE[k] ?? [null])) }, { weight: 1, arbitrary: hostileValue })));
    const extra = fc.tuple(fc.oneof(fc.constantFrom(...PROTO_KEYS), fc.string({ maxLength: 8 })), hostileValue);
    const chatBody = fc
      .record({ entries: fc.array(fc.oneof({ weight: 8, arbitrary: entry }, { weight: 1, arbitrary: extra }), { maxLength: 4 }), messages: fc.oneof({ weight: 8, arbitrary: fc.array(message, { minLength: 1, maxLength: 4 }) }, { weight: 1, arbitrary: hostileValue }) })
      .map(({ entries, messages }) => entries.reduce<Params>((o, [k, v]) => withKey(o, k, v), { messages }));
    let routed = 0;
    fc.assert(
      fc.property(chatBody, (b) => {
        try {
          const { gen, route, format } = parseChat(b);
          routed += 1;
          expectInRanges(gen);
          expect(['text', 'json']).toContain(format.kind);
          const list = b.messages as Array<{ content?: unknown }>;
          const parts = list.flatMap((m) => (Array.isArray(m.content) ? (m.content as Array<{ type?: unknown }>) : []));
          const audio = parts.filter((p) => p.type === 'input_audio' || p.type === 'audio_url');
          if (route.kind === 'captioner') {
            expect(audio).toHaveLength(1);
            if (route.audio.kind === 'input_audio') expect(AUDIO_FORMATS).toContain(route.audio.format);
          } else {
            expect(audio).toHaveLength(0);
            expect(route.messages).toHaveLength(list.length);
            for (const m of route.messages) {
              expect(['system', 'user', 'assistant']).toContain(m.role);
              expect(typeof m.content).toBe('string');
            }
            expect(route.messages[route.messages.length - 1].role).toBe('user');
          }
        } catch (e) {
          expectInvalidArgument(e, CHAT_KEYS, b);
        }
      }),
      { numRuns: runs(3000) },
    );
    expect(routed).toBeGreaterThan(runs(3000) / 50); // the generator reaches the routes, not only refusals
  });

  it('text turns round-trip: the LLM gets each turn with its text parts joined by newlines', () => {
    const turn = fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'assistant'), texts: fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }), { minLength: 1, maxLength: 3 }), asParts: fc.boolean() });
    fc.assert(
      fc.property(fc.array(turn, { maxLength: 4 }), fc.string({ unit: 'grapheme', maxLength: 20 }), (turns, last) => {
        const all = [...turns, { role: 'user', texts: [last], asParts: false }];
        const messages = all.map((t) => ({ role: t.role, content: t.asParts ? t.texts.map((text) => ({ type: 'text', text })) : t.texts.join('\n') }));
        expect(parseChat({ messages }).route).toEqual({ kind: 'llm', messages: all.map((t) => ({ role: t.role === 'developer' ? 'system' : t.role, content: t.texts.join('\n') })) });
      }),
      { numRuns: runs(500) },
    );
  });
});
