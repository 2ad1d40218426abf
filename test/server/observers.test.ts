/**
 * /v1/observers: the built-in captioner observer (real tiny model) plus an ObserverRegistry of
 * real computations (what the Detective engineer plugs in): a visual observer probing the file it
 * is given, an audio observer measuring the samples, a text observer.
 */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Captioner } from '../../src/engine/types';
import { probeMedia } from '../../src/media';
import { staticObserverRegistry, type Observer } from '../../src/observers';
import { ALSA_FRONT, SPEECH_3S, expectError, expectGoodCaption, loadTiny, postJson, start, wavBase64, wavBytes, type Started } from './helpers';

let captioner: Captioner;
let s: Started;
const seenPaths: string[] = [];

const probe: Observer = {
  name: 'probe',
  modality: 'visual',
  description: 'container facts from ffprobe',
  async observe({ media, signal }) {
    if (media.path === undefined) throw new Error('no path');
    seenPaths.push(media.path);
    const p = await probeMedia(media.path, { signal });
    return { answer: `duration ${p.durationSeconds.toFixed(2)} s`, data: { hasAudio: p.hasAudio, hasVideo: p.hasVideo, samples: media.samples?.length ?? null } };
  },
};

const loudness: Observer = {
  name: 'loudness',
  modality: 'audio',
  description: 'RMS level of the decoded audio',
  async observe({ media }) {
    const x = media.samples ?? new Float32Array(0);
    let sum = 0;
    for (const v of x) sum += v * v;
    const rms = Math.sqrt(sum / Math.max(1, x.length));
    return { answer: `rms ${rms.toFixed(4)}`, data: { rms, samples: x.length, path: media.path ?? null } };
  },
};

const echo: Observer = {
  name: 'captioner', // clashes with the built-in: the built-in must win
  modality: 'text',
  description: 'impostor',
  async observe({ question }) {
    return { answer: question };
  },
};

const words: Observer = {
  name: 'words',
  modality: 'text',
  description: 'counts words of the question',
  async observe({ question }) {
    return { answer: String(question.split(/\s+/).filter(Boolean).length) };
  },
};

beforeAll(async () => {
  captioner = await loadTiny();
  s = await start({ captioner, observers: staticObserverRegistry([probe, loudness, echo, words]), mediaRoots: [dirname(SPEECH_3S)] });
});

afterAll(async () => {
  await s?.server.close();
  await captioner?.dispose();
});

test('GET /v1/observers lists the captioner first and the registry observers', async () => {
  const res = await fetch(`${s.url}/v1/observers`);
  expect(res.status).toBe(200);
  const body = (await res.json()) as { data: Array<{ name: string; modality: string; description: string }> };
  expect(body.data.map((o) => o.name)).toEqual(['captioner', 'probe', 'loudness', 'words']);
  expect(body.data[0].modality).toBe('audio');
});

test('captioner observer answers with a caption from the real model (question ignored)', async () => {
  const res = await postJson(`${s.url}/v1/observers/captioner`, { data: wavBase64(SPEECH_3S), question: 'What is said?', max_tokens: 3 });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { observer: string; answer: string; data: { model: string; usage: { completion_tokens: number } } };
  expect(body.observer).toBe('captioner');
  expect(typeof body.answer).toBe('string');
  expect(body.data.model).toBe(captioner.modelId);
});

test('audio observer gets decoded 16 kHz samples (multipart upload)', async () => {
  const fd = new FormData();
  fd.append('file', new Blob([wavBytes(ALSA_FRONT)]), 'front.wav');
  fd.append('question', 'how loud?');
  const res = await fetch(`${s.url}/v1/observers/loudness`, { method: 'POST', body: fd });
  expect(res.status).toBe(200);
  const body = (await res.json()) as { answer: string; data: { rms: number; samples: number; path: null } };
  expect(body.data.samples).toBeGreaterThan(22_000); // 1.43 s at 16 kHz
  expect(body.data.samples).toBeLessThan(23_500);
  expect(body.data.rms).toBeGreaterThan(0.001);
  expect(body.data.path).toBeNull();
});

test('visual observer gets a file path: a temp copy for uploads (removed afterwards), the opened descriptor for server-side media', async () => {
  const up = await postJson(`${s.url}/v1/observers/probe`, { data: wavBase64(ALSA_FRONT), question: 'what is in it?' });
  expect(up.status).toBe(200);
  expect(((await up.json()) as { answer: string }).answer).toBe('duration 1.43 s');
  expect(existsSync(seenPaths[seenPaths.length - 1])).toBe(false);
  const local = await postJson(`${s.url}/v1/observers/probe`, { path: SPEECH_3S, question: 'x' });
  expect(local.status).toBe(200);
  // the file opened (and checked) once, read by ffprobe through the server's descriptor
  expect(((await local.json()) as { answer: string }).answer).toBe('duration 2.99 s');
  expect(seenPaths[seenPaths.length - 1]).toMatch(/^\/proc\/\d+\/fd\/\d+$/);
});

test('text observer needs no media', async () => {
  const res = await postJson(`${s.url}/v1/observers/words`, { question: 'is there a dog barking' });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { answer: string }).answer).toBe('5');
});

describe('bad observer requests', () => {
  const cases: Array<[string, () => Promise<Response>, number, string]> = [
    ['unknown observer', () => postJson(`${s.url}/v1/observers/ocr-nope`, { data: wavBase64(ALSA_FRONT), question: 'x' }), 404, 'OBSERVER_NOT_FOUND'],
    ['unknown observer, wrong content type', () => fetch(`${s.url}/v1/observers/nope`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'x' }), 404, 'OBSERVER_NOT_FOUND'],
    ['audio observer without media', () => postJson(`${s.url}/v1/observers/loudness`, { question: 'x' }), 400, 'INVALID_ARGUMENT'],
    ['question not a string', () => postJson(`${s.url}/v1/observers/words`, { question: 42 }), 400, 'INVALID_ARGUMENT'],
    ['traversal path', () => postJson(`${s.url}/v1/observers/probe`, { path: `${dirname(SPEECH_3S)}/../../../../etc/passwd`, question: 'x' }), 403, 'FORBIDDEN_PATH'],
    ['bad base64', () => postJson(`${s.url}/v1/observers/captioner`, { data: '%%%' }), 400, 'INVALID_ARGUMENT'],
  ];
  test.each(cases)('%s', async (_n, send, status, code) => {
    await expectError(await send(), status, code);
    await expectGoodCaption(s.url);
  });
});
