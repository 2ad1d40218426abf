/** The audio-LM observer's wire format against a loopback OpenAI-compatible endpoint. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { audioLmObserver } from '../../src/detective';
import { decodeAudio } from '../../src/media';
import { SPEECH } from './media';

interface Seen {
  auth?: string;
  body: { model: string; messages: Array<{ role: string; content: Array<{ type: string; text?: string; input_audio?: { data: string; format: string } }> }> };
}

describe('audioLmObserver', () => {
  let server: Server;
  let base = '';
  const seen: Seen[] = [];
  let failFirst = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d: Buffer) => (raw += d.toString()));
      req.on('end', () => {
        seen.push({ auth: req.headers.authorization, body: JSON.parse(raw) as Seen['body'] });
        if (failFirst > 0) {
          failFirst--;
          res.writeHead(429, { 'retry-after': '0', 'content-type': 'application/json' }).end('{"error":"slow down"}');
          return;
        }
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ message: { content: ' A man reads a sentence aloud. ' } }], usage: { prompt_tokens: 5, completion_tokens: 6 } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => new Promise<void>((r) => server.close(() => r())));

  it('sends the clip as input_audio WAV plus only the question, retries 429', async () => {
    const { samples } = await decodeAudio(SPEECH);
    failFirst = 1;
    const o = audioLmObserver({ baseURL: base, model: 'qwen-audio', apiKey: 'k' });
    expect(o.modality).toBe('audio');
    const r = await o.observe({ media: { samples }, question: 'Who is speaking?', signal: new AbortController().signal });
    expect(r.answer).toBe('A man reads a sentence aloud.');
    expect(seen).toHaveLength(2);
    const { body, auth } = seen[1];
    expect(auth).toBe('Bearer k');
    expect(body.model).toBe('qwen-audio');
    expect(body.messages).toHaveLength(1);
    const [audio, text] = body.messages[0].content;
    expect(text).toEqual({ type: 'text', text: 'Who is speaking?' });
    expect(audio.type).toBe('input_audio');
    expect(audio.input_audio!.format).toBe('wav');
    const wav = Buffer.from(audio.input_audio!.data, 'base64');
    expect(wav.subarray(0, 4).toString()).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(16000);
    expect(wav.readUInt32LE(40)).toBe(samples.length * 2);
  });

  it('a non-retryable HTTP error is UPSTREAM_ERROR; a bad URL is INVALID_ARGUMENT', async () => {
    expect(() => audioLmObserver({ baseURL: 'ftp://x', model: 'm' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    const o = audioLmObserver({ baseURL: base.replace('/v1', '/nope'), model: 'm', maxAttempts: 1 });
    failFirst = 1;
    await expect(o.observe({ media: { samples: new Float32Array(1600) }, question: 'q', signal: new AbortController().signal })).rejects.toMatchObject({ code: 'UPSTREAM_ERROR' });
    await expect(o.observe({ media: {}, question: 'q', signal: new AbortController().signal })).rejects.toMatchObject({ code: 'MEDIA_NO_AUDIO' });
  });
});
