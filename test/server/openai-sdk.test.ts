/**
 * The npm `openai` SDK (a real client) against one omnicap server with the tiny captioner and the
 * embedded local text LLM: content routing, /v1/models[/id], error `param`, 400s for unsupported
 * parameters, streamed deltas adding up exactly, bare-key Authorization.
 */
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import type { Captioner } from '../../src/engine/types';
import { LocalChatModel } from '../../src/llm/local';
import type { ChatModel } from '../../src/llm/types';
import { ALSA_FRONT, SPEECH_3S, loadTiny, postJson, start, wavBase64, type Started } from './helpers';

const KEY = 'sdk-test-key';
let captioner: Captioner;
let llm: ChatModel;
let s: Started;
let client: OpenAI;

beforeAll(async () => {
  [captioner, llm] = await Promise.all([loadTiny(), LocalChatModel.load({ threads: 1 })]);
  s = await start({ captioner, llm, apiKeys: [KEY], llmMaxTokens: 16, mediaRoots: [dirname(SPEECH_3S)] });
  client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: KEY, maxRetries: 0 });
}, 120_000);

afterAll(async () => {
  await s?.server.close();
  await captioner?.dispose();
  await llm?.dispose();
});

const audioMessage = (file = SPEECH_3S, text = 'Describe the audio.'): OpenAI.Chat.ChatCompletionMessageParam => ({
  role: 'user',
  content: [
    { type: 'input_audio', input_audio: { data: wavBase64(file), format: 'wav' } },
    { type: 'text', text },
  ],
});

test('models.list has the captioner and the text LLM; models.retrieve finds each and 404s others', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  expect(ids).toEqual([captioner.modelId, llm.id]);
  expect((await client.models.retrieve(llm.id)).id).toBe(llm.id);
  expect((await client.models.retrieve(captioner.modelId)).id).toBe(captioner.modelId);
  const e = await client.models.retrieve('gpt-nope').catch((x: unknown) => x);
  expect(e).toBeInstanceOf(OpenAI.NotFoundError);
  expect((e as InstanceType<typeof OpenAI.APIError>).param).toBe('model');
});

test('text-only chat goes to the text LLM, audio chat to the captioner', async () => {
  const text = await client.chat.completions.create({ model: 'anything', messages: [{ role: 'system', content: 'Answer briefly.' }, { role: 'user', content: 'Name a colour.' }], max_tokens: 8, temperature: 0, seed: 1 });
  expect(text.model).toBe(llm.id);
  expect(text.choices[0].message.content?.length ?? 0).toBeGreaterThan(0);
  expect(text.usage?.completion_tokens).toBeGreaterThan(0);
  // the same request straight to the model gives the same greedy text: the route adds nothing
  const direct = await llm.chat([{ role: 'system', content: 'Answer briefly.' }, { role: 'user', content: 'Name a colour.' }], { maxTokens: 8, temperature: 0, seed: 1 });
  expect(text.choices[0].message.content).toBe(direct.text);
  const audio = await client.chat.completions.create({ model: 'anything', messages: [audioMessage()], max_tokens: 4, temperature: 0 });
  expect(audio.model).toBe(captioner.modelId);
  expect(audio.usage?.completion_tokens).toBeGreaterThan(0);
});

test('streamed deltas concatenate exactly to the non-streamed content (captioner and text LLM)', async () => {
  const cases: Array<{ messages: OpenAI.Chat.ChatCompletionMessageParam[]; max_tokens: number }> = [
    { messages: [audioMessage(SPEECH_3S)], max_tokens: 12 },
    { messages: [audioMessage(ALSA_FRONT)], max_tokens: 12 },
    { messages: [{ role: 'user', content: 'Say hello.' }], max_tokens: 8 },
  ];
  for (const c of cases) {
    const full = await client.chat.completions.create({ model: 'm', ...c, temperature: 0, seed: 3 });
    const stream = await client.chat.completions.create({ model: 'm', ...c, temperature: 0, seed: 3, stream: true, stream_options: { include_usage: true } });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const ch of chunk.choices) text += ch.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    expect(text).toBe(full.choices[0].message.content);
    expect(usage?.completion_tokens).toBe(full.usage?.completion_tokens);
  }
});

test('unsupported parameters are 400 with param; neutral values pass', async () => {
  const base: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = { model: 'm', messages: [audioMessage()], max_tokens: 2 };
  const refused: Array<[Record<string, unknown>, string]> = [
    [{ stop: ['\n'] }, 'stop'],
    [{ logprobs: true }, 'logprobs'],
    [{ tools: [{ type: 'function', function: { name: 'f', parameters: {} } }] }, 'tools'],
    [{ response_format: { type: 'json_object' } }, 'response_format'],
    [{ audio: { voice: 'alloy', format: 'wav' }, modalities: ['text', 'audio'] }, 'audio'],
    [{ modalities: ['audio'] }, 'modalities'],
    [{ frequency_penalty: 0.5 }, 'frequency_penalty'],
    [{ dashscope_extend_params: { provider: 'google' } }, 'dashscope_extend_params'],
    [{ temperature: 7 }, 'temperature'],
  ];
  for (const [extra, param] of refused) {
    const e = await client.chat.completions.create({ ...base, ...extra }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(OpenAI.BadRequestError);
    expect({ extra, param: (e as InstanceType<typeof OpenAI.APIError>).param }).toEqual({ extra, param });
  }
  const bad = await client.chat.completions
    .create({ model: 'm', max_tokens: 2, messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: wavBase64(ALSA_FRONT), format: 'xyz' as 'wav' } }] }] })
    .catch((x: unknown) => x);
  expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
  expect((bad as InstanceType<typeof OpenAI.APIError>).param).toBe('messages[0].content[0].input_audio.format');
  const ok = await client.chat.completions.create({ ...base, stop: null, logprobs: false, tools: [], frequency_penalty: 0, modalities: ['text'], user: 'u' });
  expect(ok.choices[0].message.role).toBe('assistant');
});

test('the text LLM honours response_format json_schema', async () => {
  const schema = { type: 'object', properties: { colour: { type: 'string', enum: ['red', 'green', 'blue'] } }, required: ['colour'] };
  const r = await client.chat.completions.create({
    model: 'm',
    messages: [{ role: 'user', content: 'Pick a colour.' }],
    max_tokens: 16,
    temperature: 0,
    response_format: { type: 'json_schema', json_schema: { name: 'c', schema } },
  });
  expect(['red', 'green', 'blue']).toContain((JSON.parse(r.choices[0].message.content ?? '') as { colour: string }).colour);
});

test('input_audio.data may be base64, a data: URI or a file:// URL in a media root; http(s) only with remote URLs on', async () => {
  const withData = (data: string): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming => ({
    model: 'm', max_tokens: 3, temperature: 0, messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data, format: 'wav' } }] }],
  });
  const b64 = await client.chat.completions.create(withData(wavBase64(SPEECH_3S)));
  const dataUri = await client.chat.completions.create(withData(`data:audio/wav;base64,${wavBase64(SPEECH_3S)}`));
  const fileUrl = await client.chat.completions.create(withData(pathToFileURL(SPEECH_3S).href));
  // the same audio in three forms: the same greedy caption
  expect(dataUri.choices[0].message.content).toBe(b64.choices[0].message.content);
  expect(fileUrl.choices[0].message.content).toBe(b64.choices[0].message.content);
  const remote = await client.chat.completions.create(withData('https://example.invalid/clip.wav')).catch((x: unknown) => x);
  expect(remote).toBeInstanceOf(OpenAI.PermissionDeniedError);
  const outside = await client.chat.completions.create(withData(pathToFileURL('/etc/hostname').href)).catch((x: unknown) => x);
  expect(outside).toBeInstanceOf(OpenAI.PermissionDeniedError);
});

test('bare-key Authorization (reference client style) and Bearer both work; a wrong key is 401', async () => {
  const body = { model: 'm', max_tokens: 2, messages: [audioMessage()] };
  expect((await postJson(`${s.url}/v1/chat/completions`, body, { authorization: KEY })).status).toBe(200);
  expect((await postJson(`${s.url}/v1/chat/completions`, body, { authorization: `Bearer ${KEY}` })).status).toBe(200);
  expect((await postJson(`${s.url}/v1/chat/completions`, body, { authorization: 'wrong' })).status).toBe(401);
  expect((await postJson(`${s.url}/v1/chat/completions`, body, { authorization: 'Bearer' })).status).toBe(401);
  const e = await new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'nope', maxRetries: 0 }).models.list().catch((x: unknown) => x);
  expect(e).toBeInstanceOf(OpenAI.AuthenticationError);
});
