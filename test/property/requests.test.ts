/**
 * Function-level properties of the chat completion and caption request parsers
 * (src/server/params.ts, src/server/routes/chat-request.ts) on hostile bodies: known keys with
 * NaN/Infinity/negative/huge/non-decimal values, prototype-pollution keys, deep nesting, unicode,
 * form fields as strings.
 * - every parser returns values inside the documented ranges, or throws INVALID_ARGUMENT naming
 *   the parameter; nothing else escapes, and no prototype is polluted;
 * - valid values round-trip (as JSON numbers and as multipart form strings);
 * - the window count the server checks equals the windows the engine makes.
 */
import fc from 'fast-check';
import { isOmnicapError } from '../../src/errors';
import { splitWindows } from '../../src/media';
import { MAX_TOKENS_LIMIT, MAX_WINDOWS_PER_REQUEST, MIN_WINDOW_STEP_SECONDS, boolParam, checkWindowCount, generationParams, numberParam, windowCount, type Params } from '../../src/server/params';
import { AUDIO_FORMATS, checkUnsupportedParams, responseFormat, routeMessages } from '../../src/server/routes/chat-request';
import { PROTO_KEYS, hostileString, hostileValue, protoKeyObject, withKey } from './arbitraries';
import { configureProperties, outcome, runs } from './fc-config';

beforeAll(configureProperties);
afterEach(() => {
  // a parse that assigned through a __proto__ key would show up on every object
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

const GENERATION_KEYS = ['max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'top_k', 'seed', 'window_seconds', 'overlap_seconds'] as const;
const CHAT_KEYS = [...GENERATION_KEYS, 'model', 'messages', 'n', 'stream', 'stream_options', 'response_format', 'modalities', 'user', 'metadata', 'stop', 'logprobs', 'top_logprobs', 'tools', 'functions', 'tool_choice', 'function_call', 'parallel_tool_calls', 'audio', 'frequency_penalty', 'presence_penalty', 'logit_bias', 'store'] as const;

/** A form field as a client may send it: a decimal, or text that only looks numeric. */
const formString = fc.oneof(fc.double().map(String), fc.integer().map(String), hostileString, fc.constantFrom('1', '0', '30', '29.5', ' 2 ', '1e3', '1E-2', '0x1F', 'Infinity', '1_0', '١٢', '２'));

/** A body: some known keys with hostile (or ordinary) values, maybe an unknown or prototype key. */
function body(keys: readonly string[], value: fc.Arbitrary<unknown>): fc.Arbitrary<Params> {
  return fc
    .record({
      entries: fc.array(fc.tuple(fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...keys) }, { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS) }, { weight: 1, arbitrary: fc.string({ maxLength: 12 }) }), value), { maxLength: 6 }),
      base: fc.oneof(fc.constant({}), protoKeyObject),
    })
    .map(({ entries, base }) => entries.reduce<Params>((o, [k, v]) => withKey(o, k, v), base));
}

function expectInvalidArgument(e: unknown, allowed: readonly string[]): void {
  if (!isOmnicapError(e)) throw e;
  expect(e.code).toBe('INVALID_ARGUMENT');
  const parameter = e.details?.parameter;
  if (typeof parameter === 'string') expect(allowed.some((k) => parameter === k || parameter.startsWith(`${k}.`) || parameter.startsWith(`${k}[`))).toBe(true);
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

describe('generation parameters (captions and chat)', () => {
  it('JSON bodies: values in range, or INVALID_ARGUMENT naming the parameter', () => {
    fc.assert(
      fc.property(body(GENERATION_KEYS, hostileValue), fc.boolean(), (p, chat) => {
        try {
          expectInRanges(generationParams(p, false, chat ? { maxTokens: ['max_completion_tokens'] } : {}));
          expect(boolParam(p, 'stream', false) ?? false).toEqual(expect.any(Boolean));
        } catch (e) {
          expectInvalidArgument(e, [...GENERATION_KEYS, 'stream']);
        }
      }),
      { numRuns: runs(2000) },
    );
  });

  it('multipart form fields (strings): values in range, or INVALID_ARGUMENT naming the parameter', () => {
    fc.assert(
      fc.property(body([...GENERATION_KEYS, 'stream'], formString), (p) => {
        try {
          expectInRanges(generationParams(p, true));
          boolParam(p, 'stream', true);
        } catch (e) {
          expectInvalidArgument(e, [...GENERATION_KEYS, 'stream']);
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
        expect(generationParams(p, false)).toEqual(want);
        const form = Object.fromEntries(Object.entries(p).map(([k, v]) => [k, String(v)]));
        expect(generationParams(form, true)).toEqual(want);
      }),
      { numRuns: runs(1000) },
    );
  });

  it('numberParam: any finite number written as a form string reads back as itself', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        expect(numberParam({ x: String(n) }, 'x', true, {})).toBe(n === 0 ? 0 : n);
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
  fc.record({ type: fc.constant('text'), text: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 20 }), hostileValue) }),
  fc.record({ type: fc.constant('input_audio'), input_audio: fc.oneof(fc.record({ data: fc.oneof(fc.base64String({ maxLength: 16 }), hostileValue), format: fc.oneof(fc.constantFrom(...AUDIO_FORMATS, 'WAV', 'Mp3', 'pcm', ''), hostileValue) }), hostileValue) }),
  fc.record({ type: fc.constant('audio_url'), audio_url: fc.oneof(fc.record({ url: fc.oneof(fc.constantFrom('data:audio/wav;base64,AAAA', 'file:///etc/passwd', 'http://127.0.0.1/a.wav'), hostileValue) }), hostileValue) }),
  fc.record({ type: fc.constantFrom('image_url', 'file', 'input_image', '__proto__', 'TEXT') }),
  hostileValue,
);

const message: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool'), content: fc.oneof(fc.string({ unit: 'grapheme', maxLength: 30 }), fc.constant(null), fc.array(contentPart, { maxLength: 3 })) }) },
  { weight: 1, arbitrary: fc.record({ role: hostileValue, content: hostileValue }, { requiredKeys: [] }) },
  { weight: 1, arbitrary: hostileValue },
);

describe('chat completion requests', () => {
  it('routeMessages: a captioner route with the one audio part, an LLM route of text turns ending with the user, or INVALID_ARGUMENT', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 5, arbitrary: fc.array(message, { maxLength: 5 }) }, { weight: 1, arbitrary: hostileValue }), (messages) => {
        try {
          const route = routeMessages(messages);
          const list = messages as Array<{ content?: unknown }>;
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
          expectInvalidArgument(e, ['messages']);
        }
      }),
      { numRuns: runs(3000) },
    );
  });

  it('text turns round-trip: the LLM gets each turn with its text parts joined by newlines', () => {
    const turn = fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'assistant'), texts: fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }), { minLength: 1, maxLength: 3 }), asParts: fc.boolean() });
    fc.assert(
      fc.property(fc.array(turn, { maxLength: 4 }), fc.string({ unit: 'grapheme', maxLength: 20 }), (turns, last) => {
        const all = [...turns, { role: 'user', texts: [last], asParts: false }];
        const messages = all.map((t) => ({ role: t.role, content: t.asParts ? t.texts.map((text) => ({ type: 'text', text })) : t.texts.join('\n') }));
        expect(routeMessages(messages)).toEqual({ kind: 'llm', messages: all.map((t) => ({ role: t.role === 'developer' ? 'system' : t.role, content: t.texts.join('\n') })) });
      }),
      { numRuns: runs(500) },
    );
  });

  it('checkUnsupportedParams and responseFormat: pass, or INVALID_ARGUMENT naming the parameter', () => {
    fc.assert(
      fc.property(body(CHAT_KEYS, hostileValue), (b) => {
        try {
          checkUnsupportedParams(b);
          const rf = responseFormat(b);
          expect(['text', 'json']).toContain(rf.kind);
          for (const key of Object.keys(b)) expect(CHAT_KEYS as readonly string[]).toContain(key);
        } catch (e) {
          if (!isOmnicapError(e)) throw e;
          expect(e.code).toBe('INVALID_ARGUMENT');
          expect(typeof e.details?.parameter === 'string' || /^Expected /.test(e.message)).toBe(true);
        }
      }),
      { numRuns: runs(3000) },
    );
  });
});
