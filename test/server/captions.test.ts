/** POST /v1/captions with the real tiny fixture model: every input form, SSE, and bad inputs. */
import { mkdtempSync, mkdirSync, copyFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Captioner } from '../../src/engine/types';
import {
  ALSA_FRONT,
  SPEECH_3S,
  SPEECH_7S,
  expectError,
  expectGoodCaption,
  loadTiny,
  parseSse,
  postJson,
  start,
  wavBase64,
  wavBytes,
  type Started,
} from './helpers';

let captioner: Captioner;
let s: Started;
let dir: string;
let root: string;

interface CaptionJson {
  caption: string;
  model: string;
  audio_seconds: number;
  usage: { prompt_tokens: number; completion_tokens: number };
  timings: { total_ms: number; decode_ms: number };
  windows: number;
  finish_reason: string;
  request_id: string;
}

beforeAll(async () => {
  captioner = await loadTiny();
  dir = mkdtempSync(join(tmpdir(), 'omnicap-serve-test-'));
  root = join(dir, 'root');
  mkdirSync(join(root, 'sub'), { recursive: true });
  copyFileSync(SPEECH_3S, join(root, 'sub', 'speech.wav'));
  writeFileSync(join(dir, 'secret.wav'), wavBytes(ALSA_FRONT)); // outside the root
  symlinkSync(join(dir, 'secret.wav'), join(root, 'escape.wav')); // symlink escaping the root
  symlinkSync(dir, join(root, 'escape-dir')); // directory symlink escaping the root
  symlinkSync(join(root, 'sub', 'speech.wav'), join(root, 'inside-link.wav')); // symlink staying inside
  s = await start({ captioner, mediaRoots: [root], maxUploadBytes: 600_000, maxAudioSeconds: 6 });
});

afterAll(async () => {
  await s?.server.close();
  await captioner?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /v1/captions', () => {
  test('JSON base64 data: full response shape from the real model', async () => {
    const res = await postJson(`${s.url}/v1/captions`, { data: wavBase64(SPEECH_3S), max_tokens: 4, temperature: 0, seed: 3 });
    expect(res.status).toBe(200);
    const body = (await res.json()) as CaptionJson;
    expect(body.model).toBe(captioner.modelId);
    expect(body.audio_seconds).toBeCloseTo(2.99, 2);
    expect(body.usage.prompt_tokens).toBeGreaterThan(0);
    expect(body.usage.completion_tokens).toBeGreaterThanOrEqual(1);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(4);
    expect(body.windows).toBe(1);
    expect(['stop', 'length']).toContain(body.finish_reason);
    expect(body.timings.total_ms).toBeGreaterThan(0);
    expect(body.request_id).toBe(res.headers.get('x-request-id'));
    // greedy decoding is deterministic: the same request gives the same caption
    const again = (await (await postJson(`${s.url}/v1/captions`, { data: wavBase64(SPEECH_3S), max_tokens: 4, temperature: 0, seed: 9 })).json()) as CaptionJson;
    expect(again.caption).toBe(body.caption);
  });

  test('multipart upload with form-field options (48 kHz clip resampled)', async () => {
    const fd = new FormData();
    fd.append('file', new Blob([wavBytes(ALSA_FRONT)]), 'front.wav');
    fd.append('max_tokens', '3');
    fd.append('seed', '7');
    const res = await fetch(`${s.url}/v1/captions`, { method: 'POST', body: fd });
    expect(res.status).toBe(200);
    const body = (await res.json()) as CaptionJson;
    expect(body.audio_seconds).toBeCloseTo(1.428, 2);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(3);
  });

  test('server-side path and file:// URL inside the media root (symlink inside the root allowed)', async () => {
    for (const ref of [{ path: 'sub/speech.wav' }, { path: join(root, 'inside-link.wav') }, { url: pathToFileURL(join(root, 'sub', 'speech.wav')).href }]) {
      const res = await postJson(`${s.url}/v1/captions`, { ...ref, max_tokens: 2 });
      expect(res.status).toBe(200);
      expect(((await res.json()) as CaptionJson).audio_seconds).toBeCloseTo(2.99, 2);
    }
  });

  test('windowing options reach the engine', async () => {
    const res = await postJson(`${s.url}/v1/captions`, { data: wavBase64(SPEECH_3S), max_tokens: 2, window_seconds: 1.5, overlap_seconds: 0.25 });
    expect(res.status).toBe(200);
    expect(((await res.json()) as CaptionJson).windows).toBeGreaterThanOrEqual(2);
  });

  test('stream=true: SSE tokens then done; concatenated tokens equal the caption', async () => {
    const res = await postJson(`${s.url}/v1/captions?stream=true`, { data: wavBase64(SPEECH_3S), max_tokens: 5, temperature: 0 });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const events = parseSse(await res.text()).map((e) => JSON.parse(e.data) as { type: string; text?: string; token_id?: number | null } & Partial<CaptionJson>);
    const tokens = events.filter((e) => e.type === 'token');
    expect(events[0].type).toBe('window');
    const done = events[events.length - 1];
    expect(done.type).toBe('done');
    expect(tokens.filter((t) => t.token_id !== null).length).toBe(done.usage?.completion_tokens);
    expect(tokens.map((t) => t.text).join('').trim()).toBe(done.caption);
  });
});

describe('bad inputs get typed errors and the server keeps serving', () => {
  const cases: Array<[string, () => Promise<Response>, number, string]> = [
    ['malformed JSON', () => fetch(`${s.url}/v1/captions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"data": ' }), 400, 'INVALID_ARGUMENT'],
    ['JSON array body', () => postJson(`${s.url}/v1/captions`, [1, 2]), 400, 'INVALID_ARGUMENT'],
    ['wrong content type', () => fetch(`${s.url}/v1/captions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no content type', () => fetch(`${s.url}/v1/captions`, { method: 'POST', body: new Uint8Array([1, 2, 3]) }), 415, 'UNSUPPORTED_MEDIA_TYPE'],
    ['no media', () => postJson(`${s.url}/v1/captions`, { max_tokens: 2 }), 400, 'INVALID_ARGUMENT'],
    ['two media references', () => postJson(`${s.url}/v1/captions`, { data: wavBase64(ALSA_FRONT), path: 'sub/speech.wav' }), 400, 'INVALID_ARGUMENT'],
    ['bad base64', () => postJson(`${s.url}/v1/captions`, { data: 'UklGR!!!not*base64' }), 400, 'INVALID_ARGUMENT'],
    ['corrupt media (not a container)', () => postJson(`${s.url}/v1/captions`, { data: Buffer.from('definitely not audio '.repeat(40)).toString('base64') }), 415, 'MEDIA_UNSUPPORTED'],
    ['corrupt media (truncated WAV header)', () => postJson(`${s.url}/v1/captions`, { data: wavBytes(ALSA_FRONT).subarray(0, 30).toString('base64') }), 422, 'MEDIA_CORRUPT'],
    ['corrupt media (MPEG sync then garbage)', () => postJson(`${s.url}/v1/captions`, { data: Buffer.concat([Buffer.from([0xff, 0xfb, 0x90, 0x64]), Buffer.alloc(3000, 3)]).toString('base64') }), 422, 'MEDIA_CORRUPT'],
    ['bad option type', () => postJson(`${s.url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: '5' }), 400, 'INVALID_ARGUMENT'],
    ['option out of range', () => postJson(`${s.url}/v1/captions`, { data: wavBase64(ALSA_FRONT), top_p: 0 }), 400, 'INVALID_ARGUMENT'],
    ['overlap >= window', () => postJson(`${s.url}/v1/captions`, { data: wavBase64(ALSA_FRONT), window_seconds: 2, overlap_seconds: 2 }), 400, 'INVALID_ARGUMENT'],
    ['huge JSON body', () => postJson(`${s.url}/v1/captions`, { data: 'A'.repeat(2_500_000) }), 413, 'PAYLOAD_TOO_LARGE'],
    ['base64 over the upload limit', () => postJson(`${s.url}/v1/captions`, { data: Buffer.alloc(700_000, 1).toString('base64') }), 413, 'PAYLOAD_TOO_LARGE'],
    ['multipart file over the limit', () => {
      const fd = new FormData();
      fd.append('file', new Blob([Buffer.alloc(700_000, 1)]), 'big.wav');
      return fetch(`${s.url}/v1/captions`, { method: 'POST', body: fd });
    }, 413, 'PAYLOAD_TOO_LARGE'],
    ['multipart with the wrong file field', () => {
      const fd = new FormData();
      fd.append('audio', new Blob([wavBytes(ALSA_FRONT)]), 'a.wav');
      return fetch(`${s.url}/v1/captions`, { method: 'POST', body: fd });
    }, 400, 'INVALID_ARGUMENT'],
    ['malformed multipart', () => fetch(`${s.url}/v1/captions`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=xyz' }, body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\n\r\nabc' }), 400, 'INVALID_ARGUMENT'],
    ['audio longer than the limit', () => postJson(`${s.url}/v1/captions`, { data: wavBase64(SPEECH_7S) }), 413, 'MEDIA_TOO_LONG'],
    ['.. traversal', () => postJson(`${s.url}/v1/captions`, { path: 'sub/../../secret.wav' }), 403, 'FORBIDDEN_PATH'],
    ['absolute path outside the roots', () => postJson(`${s.url}/v1/captions`, { path: ALSA_FRONT }), 403, 'FORBIDDEN_PATH'],
    ['file:// URL outside the roots', () => postJson(`${s.url}/v1/captions`, { url: pathToFileURL(join(dir, 'secret.wav')).href }), 403, 'FORBIDDEN_PATH'],
    ['encoded .. in a file:// URL', () => postJson(`${s.url}/v1/captions`, { url: `file://${root}/sub/%2E%2E/%2E%2E/secret.wav` }), 403, 'FORBIDDEN_PATH'],
    ['symlink escaping the root', () => postJson(`${s.url}/v1/captions`, { path: 'escape.wav' }), 403, 'FORBIDDEN_PATH'],
    ['directory symlink escaping the root', () => postJson(`${s.url}/v1/captions`, { path: 'escape-dir/secret.wav' }), 403, 'FORBIDDEN_PATH'],
    ['missing file inside the root', () => postJson(`${s.url}/v1/captions`, { path: 'sub/nope.wav' }), 404, 'MEDIA_NOT_FOUND'],
    ['remote URL (air-gapped default)', () => postJson(`${s.url}/v1/captions`, { url: 'http://127.0.0.1:9/a.wav' }), 403, 'REMOTE_URL_DISABLED'],
    ['unknown URL scheme', () => postJson(`${s.url}/v1/captions`, { url: 'ftp://x/a.wav' }), 400, 'INVALID_ARGUMENT'],
    ['unknown route', () => fetch(`${s.url}/v1/nothing`), 404, 'NOT_FOUND'],
  ];
  test.each(cases)('%s', async (_name, send, status, code) => {
    await expectError(await send(), status, code);
    await expectGoodCaption(s.url);
  });

  test('X-Request-Id from the client is echoed in the header and the error body', async () => {
    const res = await postJson(`${s.url}/v1/captions`, { path: '../x' }, { 'x-request-id': 'client-req-42' });
    expect(res.headers.get('x-request-id')).toBe('client-req-42');
    expect((await expectError(res, 403, 'FORBIDDEN_PATH')).error.request_id).toBe('client-req-42');
  });
});
