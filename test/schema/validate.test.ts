/**
 * Schema checks give one typed error naming the field at fault (`details.parameter`, the server's
 * `error.param`) with what was expected, worded from the schema; form fields convert strictly.
 */
import { OmnicapError } from '../../src/errors';
import { CaptionsRequest, ChatCompletionRequest, ObserverRequest, checker, describeSchema, fromFormFields } from '../../src/schema';

const chat = checker(ChatCompletionRequest);
const captions = checker(CaptionsRequest);
const observer = checker(ObserverRequest);

function failure(f: () => unknown): { code: string; parameter: unknown; message: string } {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(OmnicapError);
    const err = e as OmnicapError;
    return { code: err.code, parameter: err.details?.parameter, message: err.message };
  }
  throw new Error('expected a failure');
}

const audio = { role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'UklGRg==', format: 'wav' } }] };

describe('chat completion requests', () => {
  test('valid requests pass through typed and unchanged', () => {
    const body = { model: 'm', messages: [{ role: 'system', content: 'Be brief.' }, audio], max_tokens: 2, temperature: 0, stream: true, stream_options: { include_usage: true }, user: 'u', metadata: { k: 'v' } };
    expect(chat(body)).toBe(body);
    const neutral = { messages: [audio], stop: null, logprobs: false, top_logprobs: 0, tools: [], tool_choice: 'none', frequency_penalty: 0, presence_penalty: null, logit_bias: {}, store: false, modalities: ['text'], n: 1, parallel_tool_calls: true };
    expect(chat(neutral)).toBe(neutral);
  });

  test.each([
    ['a bad field of a content part', { messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'x', format: 'xyz' } }] }] }, 'messages[0].content[0].input_audio.format', 'Expected one of wav, mp3, flac, ogg, opus, oga, m4a, aac, mp4, webm, aiff for messages[0].content[0].input_audio.format but received string "xyz"'],
    ['an image part', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 'messages[0].content[0].type', 'Expected one of text, input_audio, audio_url for messages[0].content[0].type but received string "image_url"'],
    ['a content part that is not an object', { messages: [{ role: 'user', content: ['x'] }] }, 'messages[0].content[0]', 'Expected a content part with type text, input_audio, audio_url for messages[0].content[0] but received string "x"'],
    ['the text of a text part', { messages: [{ role: 'user', content: [{ type: 'text', text: 5 }] }] }, 'messages[0].content[0].text', 'Expected a string for messages[0].content[0].text but received number 5'],
    ['content not a string or parts', { messages: [{ role: 'user', content: 5 }] }, 'messages[0].content', 'Expected a string or an array of content parts for messages[0].content but received number 5'],
    ['no messages', { model: 'm' }, 'messages', 'Expected a non-empty array of chat messages for messages but received undefined'],
    ['empty messages', { messages: [] }, 'messages', 'Expected a non-empty array of chat messages for messages but received array of length 0'],
    ['a bad role', { messages: [{ role: 'robot', content: 'x' }] }, 'messages[0].role', 'Expected one of system, developer, user, assistant, tool for messages[0].role but received string "robot"'],
    ['temperature out of range', { messages: [audio], temperature: 7 }, 'temperature', 'Expected a number in [0, 2] for temperature but received number 7'],
    ['a non-string model', { messages: [audio], model: 5 }, 'model', 'Expected a string for model but received number 5'],
    ['a json_schema without a schema', { messages: [audio], response_format: { type: 'json_schema', json_schema: { name: 'x' } } }, 'response_format.json_schema.schema', 'Expected a JSON schema object for response_format.json_schema.schema but received undefined'],
    ['an unknown response format', { messages: [audio], response_format: { type: 'yaml' } }, 'response_format.type', 'Expected one of text, json_object, json_schema for response_format.type but received string "yaml"'],
    ['include_usage not a boolean', { messages: [audio], stream_options: { include_usage: 'yes' } }, 'stream_options.include_usage', 'Expected a boolean for stream_options.include_usage but received string "yes"'],
    ['an unknown parameter', { messages: [audio], dashscope_extend_params: {} }, 'dashscope_extend_params', 'unrecognized request argument supplied: dashscope_extend_params'],
  ])('%s', (_what, body, parameter, message) => {
    expect(failure(() => chat(body))).toEqual({ code: 'INVALID_ARGUMENT', parameter, message });
  });

  test.each([
    [{ stop: ['\n'] }, 'stop', 'stop sequences are not implemented'],
    [{ logprobs: true }, 'logprobs', 'token log probabilities are not returned'],
    [{ tools: [{ type: 'function' }] }, 'tools', 'tool / function calling is not implemented'],
    [{ tool_choice: 'required' }, 'tool_choice', 'tool / function calling is not implemented'],
    [{ audio: { voice: 'alloy' }, modalities: ['text', 'audio'] }, 'audio', 'audio output is not produced (text only)'],
    [{ modalities: ['audio'] }, 'modalities', 'only ["text"] output is produced'],
    [{ frequency_penalty: 0.5 }, 'frequency_penalty', 'repetition penalties are not implemented'],
    [{ n: 2 }, 'n', 'one choice per request (n = 1)'],
    [{ store: true }, 'store', 'completions are not stored'],
  ])('unsupported parameter %j is refused naming it', (extra, parameter, why) => {
    expect(failure(() => chat({ messages: [audio], ...extra }))).toEqual({ code: 'INVALID_ARGUMENT', parameter, message: `${parameter} is not supported by omnicap: ${why}` });
  });
});

describe('captions and observer requests', () => {
  test('JSON: real JSON types only; unknown fields are refused', () => {
    expect(failure(() => captions({ data: 'x', max_tokens: '5' }))).toEqual({ code: 'INVALID_ARGUMENT', parameter: 'max_tokens', message: 'Expected an integer in [1, 32768] for max_tokens but received string "5"' });
    expect(failure(() => captions({ data: 'x', top_p: 0 }))).toMatchObject({ parameter: 'top_p', message: 'Expected a number in (0, 1] for top_p but received number 0' });
    expect(failure(() => captions({ data: 'x', language: 'en' }))).toEqual({ code: 'INVALID_ARGUMENT', parameter: 'language', message: 'unrecognized request argument supplied: language' });
    expect(failure(() => captions({ data: 5 }))).toMatchObject({ parameter: 'data', message: 'Expected a string for data but received number 5' });
    expect(captions({ data: 'x', max_tokens: null, stream: null })).toEqual({ data: 'x', max_tokens: null, stream: null }); // null = absent
    expect(failure(() => observer({ question: 42 }))).toMatchObject({ parameter: 'question', message: 'Expected a string of at most 8192 characters for question but received number 42' });
    expect(failure(() => observer({ question: 'q'.repeat(8193) }))).toMatchObject({ parameter: 'question' });
  });

  test('form fields: plain decimals and true/false/1/0 convert; anything else fails with its text', () => {
    expect(fromFormFields(CaptionsRequest, { max_tokens: '16', temperature: ' 0.5 ', stream: 'TRUE', seed: '', path: 'a.wav', question: 'q' })).toEqual({ max_tokens: 16, temperature: 0.5, stream: true, path: 'a.wav', question: 'q' });
    expect(fromFormFields(ObserverRequest, { question: '', stream: 'x' })).toEqual({ question: '', stream: 'x' }); // a string field keeps '', an unknown one stays
    for (const bad of ['0x10', 'Infinity', '1_0', '1e']) {
      expect(failure(() => captions(fromFormFields(CaptionsRequest, { max_tokens: bad })))).toEqual({ code: 'INVALID_ARGUMENT', parameter: 'max_tokens', message: `Expected an integer in [1, 32768] for max_tokens but received string ${JSON.stringify(bad)}` });
    }
    expect(failure(() => captions(fromFormFields(CaptionsRequest, { stream: 'yes' })))).toMatchObject({ parameter: 'stream', message: 'Expected a boolean for stream but received string "yes"' });
  });
});

test('describeSchema words ranges, enums, arrays and unions', () => {
  expect(describeSchema({ type: 'integer', minimum: 0 })).toBe('an integer >= 0');
  expect(describeSchema({ type: 'number', exclusiveMinimum: 0, maximum: 1 })).toBe('a number in (0, 1]');
  expect(describeSchema({ type: 'integer', minimum: 1, maximum: 1 })).toBe('an integer equal to 1');
  expect(describeSchema({ anyOf: [{ type: 'boolean' }, { type: 'null' }] })).toBe('a boolean');
  expect(describeSchema({ type: 'array', items: { type: 'string' } })).toBe('an array of strings');
  expect(describeSchema({ type: 'string', enum: ['a', 'b'] })).toBe('one of a, b');
});
