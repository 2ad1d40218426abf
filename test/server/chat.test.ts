/** OpenAI-compatible /v1/chat/completions and /v1/models with the real tiny fixture model. */
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Captioner } from '../../src/engine/types';
import { ALSA_FRONT, SPEECH_3S, expectError, expectGoodCaption, loadTiny, parseSse, postJson, start, wavBase64, wavBytes, type Started } from './helpers';

let captioner: Captioner;
let s: Started;
let remote: Started;
let media: Server;
let mediaUrl: string;

interface Completion {
  id: string;
  object: string;
  model: string;
  choices: Array<{ index: number; message: { role: string; content: string }; finish_reason: string }>;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

interface Chunk {
  id: string;
  object: string;
  model: string;
  choices: Array<{ index: number; delta: { role?: string; content?: string }; finish_reason: string | null }>;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
}

/** Exactly what the reference Omni-Detective client sends. */
function detectiveRequest(question: string): Record<string, unknown> {
  return {
    model: 'omnicap-captioner',
    messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: wavBase64(SPEECH_3S), format: 'wav' } }, { type: 'text', text: question }] }],
    temperature: 0,
    max_tokens: 4,
  };
}

beforeAll(async () => {
  captioner = await loadTiny();
  s = await start({ captioner, mediaRoots: [dirname(SPEECH_3S)] });
  remote = await start({ captioner, allowRemoteUrls: true });
  // a real loopback HTTP server acting as the "remote" media host
  media = createHttpServer((req, res) => {
    if (req.url === '/clip.wav') {
      res.setHeader('content-type', 'audio/wav');
      res.end(wavBytes(ALSA_FRONT));
    } else {
      res.statusCode = 404;
      res.end('no');
    }
  });
  await new Promise<void>((r) => media.listen(0, '127.0.0.1', () => r()));
  mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await s?.server.close();
  await remote?.server.close();
  await new Promise<void>((r) => (media ? media.close(() => r()) : r()));
  await captioner?.dispose();
});

test('GET /v1/models lists the loaded model', async () => {
  const res = await fetch(`${s.url}/v1/models`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { object: string; data: Array<{ id: string; object: string }> };
  expect(body.object).toBe('list');
  expect(body.data).toEqual([expect.objectContaining({ id: captioner.modelId, object: 'model' })]);
});

test('the exact Omni-Detective request shape (non-streaming) gets a chat.completion with usage', async () => {
  const res = await postJson(`${s.url}/v1/chat/completions`, detectiveRequest('What sounds are in the clip?'));
  expect(res.status).toBe(200);
  const body = (await res.json()) as Completion;
  expect(body.object).toBe('chat.completion');
  expect(body.id).toMatch(/^chatcmpl-/);
  expect(body.model).toBe(captioner.modelId);
  expect(body.choices).toHaveLength(1);
  expect(body.choices[0].message.role).toBe('assistant');
  expect(typeof body.choices[0].message.content).toBe('string');
  expect(['stop', 'length']).toContain(body.choices[0].finish_reason);
  expect(body.usage.completion_tokens).toBeGreaterThanOrEqual(1);
  expect(body.usage.completion_tokens).toBeLessThanOrEqual(4);
  expect(body.usage.total_tokens).toBe(body.usage.prompt_tokens + body.usage.completion_tokens);
  // text parts are ignored: another question gives the same greedy caption
  const other = (await (await postJson(`${s.url}/v1/chat/completions`, detectiveRequest('Describe the speaker.'))).json()) as Completion;
  expect(other.choices[0].message.content).toBe(body.choices[0].message.content);
});

test('streaming: chat.completion.chunk frames, usage chunk, [DONE]', async () => {
  const res = await postJson(`${s.url}/v1/chat/completions`, { ...detectiveRequest('q'), stream: true, stream_options: { include_usage: true } });
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const events = parseSse(await res.text());
  expect(events[events.length - 1].data).toBe('[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e.data) as Chunk);
  for (const c of chunks) expect(c.object).toBe('chat.completion.chunk');
  expect(new Set(chunks.map((c) => c.id)).size).toBe(1);
  expect(chunks[0].choices[0].delta.role).toBe('assistant');
  const usageChunk = chunks[chunks.length - 1];
  expect(usageChunk.choices).toEqual([]);
  const finish = chunks[chunks.length - 2];
  expect(['stop', 'length']).toContain(finish.choices[0].finish_reason);
  const text = chunks.flatMap((c) => c.choices.map((ch) => ch.delta.content ?? '')).join('');
  const nonStream = (await (await postJson(`${s.url}/v1/chat/completions`, detectiveRequest('q'))).json()) as Completion;
  expect(text).toBe(nonStream.choices[0].message.content); // exactly, not modulo whitespace
  expect(usageChunk.usage?.completion_tokens).toBe(nonStream.usage.completion_tokens);
});

test('audio_url: data: URL and file:// inside the media root', async () => {
  for (const url of [`data:audio/wav;base64,${wavBase64(ALSA_FRONT)}`, pathToFileURL(SPEECH_3S).href]) {
    const res = await postJson(`${s.url}/v1/chat/completions`, { model: 'x', max_tokens: 2, messages: [{ role: 'user', content: [{ type: 'audio_url', audio_url: { url } }] }] });
    expect(res.status).toBe(200);
    expect(((await res.json()) as Completion).choices[0].message.role).toBe('assistant');
  }
});

test('http(s) audio_url works only with allowRemoteUrls (real loopback media host)', async () => {
  const req = (url: string): Record<string, unknown> => ({ max_tokens: 2, messages: [{ role: 'user', content: [{ type: 'audio_url', audio_url: { url } }] }] });
  await expectError(await postJson(`${s.url}/v1/chat/completions`, req(`${mediaUrl}/clip.wav`)), 403, 'REMOTE_URL_DISABLED');
  const ok = await postJson(`${remote.url}/v1/chat/completions`, req(`${mediaUrl}/clip.wav`));
  expect(ok.status).toBe(200);
  await expectError(await postJson(`${remote.url}/v1/chat/completions`, req(`${mediaUrl}/missing.wav`)), 502, 'UPSTREAM_ERROR');
  await expectGoodCaption(remote.url);
});

describe('bad chat requests', () => {
  const audio = { type: 'input_audio', input_audio: { data: '', format: 'wav' } };
  const cases: Array<[string, () => Record<string, unknown> | string, number, string]> = [
    ['no messages', () => ({ model: 'm' }), 400, 'INVALID_ARGUMENT'],
    ['no audio part and no text LLM', () => ({ messages: [{ role: 'user', content: 'describe' }] }), 400, 'INVALID_ARGUMENT'],
    ['two audio parts', () => ({ messages: [{ role: 'user', content: [{ ...audio, input_audio: { data: wavBase64(ALSA_FRONT), format: 'wav' } }, { ...audio, input_audio: { data: wavBase64(ALSA_FRONT), format: 'wav' } }] }] }), 400, 'INVALID_ARGUMENT'],
    ['image part', () => ({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] }), 400, 'INVALID_ARGUMENT'],
    ['unknown audio format', () => ({ messages: [{ role: 'user', content: [{ ...audio, input_audio: { data: wavBase64(ALSA_FRONT), format: 'xyz' } }] }] }), 400, 'INVALID_ARGUMENT'],
    ['bad base64 audio', () => ({ messages: [{ role: 'user', content: [{ ...audio, input_audio: { data: '@@@@', format: 'wav' } }] }] }), 400, 'INVALID_ARGUMENT'],
    ['empty audio', () => ({ messages: [{ role: 'user', content: [audio] }] }), 422, 'MEDIA_EMPTY'],
    ['n > 1', () => ({ n: 2, messages: [{ role: 'user', content: [{ ...audio, input_audio: { data: wavBase64(ALSA_FRONT), format: 'wav' } }] }] }), 400, 'INVALID_ARGUMENT'],
    ['bad role', () => ({ messages: [{ role: 'robot', content: 'x' }] }), 400, 'INVALID_ARGUMENT'],
    ['malformed JSON', () => '{"messages": [', 400, 'INVALID_ARGUMENT'],
  ];
  test.each(cases)('%s', async (_name, body, status, code) => {
    const b = body();
    const res = typeof b === 'string' ? await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: b }) : await postJson(`${s.url}/v1/chat/completions`, b);
    await expectError(res, status, code);
    await expectGoodCaption(s.url);
  });

  test('multipart is not accepted on chat completions (415)', async () => {
    const fd = new FormData();
    fd.append('file', new Blob([wavBytes(ALSA_FRONT)]), 'a.wav');
    await expectError(await fetch(`${s.url}/v1/chat/completions`, { method: 'POST', body: fd }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    await expectGoodCaption(s.url);
  });
});
