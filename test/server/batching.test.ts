/** A server whose captioner batches decode steps (`omnicap serve --batch N`): same answers, really batched, SSE and disconnects still per request. */
import { loadCaptioner, type CaptionerEngine } from '../../src/engine';
import { decodeAudio } from '../../src/media';
import { defaultModelDir } from '../../src/util/paths';
import { ALSA_FRONT, LIBRIVOX, SPEECH_3S, SPEECH_7S, parseSse, postJson, start, wavBase64, type Started } from './helpers';

const CLIPS = [SPEECH_3S, SPEECH_7S, ALSA_FRONT, `${LIBRIVOX}/sense_and_sensibility_01_austen_64kb-0890.wav`];

let batched: CaptionerEngine;
let solo: CaptionerEngine;
let s: Started;

beforeAll(async () => {
  batched = await loadCaptioner(defaultModelDir(), { provider: 'cpu', threads: 1, batch: { maxBatch: 4 } });
  solo = await loadCaptioner(defaultModelDir(), { provider: 'cpu', threads: 1 });
  s = await start({ captioner: batched, concurrency: 4, maxQueue: 16 });
});
afterAll(async () => {
  await s?.server.close();
  await batched?.dispose();
  await solo?.dispose();
});

describe('server with batched decoding', () => {
  it('concurrent requests get the captions they get alone, in shared decoder calls', async () => {
    const body = (c: string) => ({ data: wavBase64(c), max_tokens: 20, temperature: 0 });
    const res = await Promise.all([...CLIPS, ...CLIPS].map((c) => postJson(`${s.url}/v1/captions`, body(c))));
    const got = await Promise.all(res.map(async (r) => {
      expect(r.status).toBe(200);
      return ((await r.json()) as { caption: string }).caption;
    }));
    const want: string[] = [];
    for (const c of CLIPS) {
      const a = await decodeAudio(c);
      want.push((await solo.caption({ samples: a.samples, sampleRate: 16000 }, { temperature: 0, maxNewTokens: 20 })).caption);
    }
    expect(got).toEqual([...want, ...want]);
    expect(batched.batchStats!.maxRows).toBeGreaterThan(1);
    expect(batched.batchStats!.rowSteps).toBeGreaterThan(batched.batchStats!.steps);
    const metrics = await (await fetch(`${s.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(metrics)?.[1]);
    expect(value('omnicap_batch_steps_total')).toBe(batched.batchStats!.steps);
    expect(value('omnicap_batch_row_steps_total')).toBeGreaterThan(value('omnicap_batch_steps_total'));
  });

  it('an SSE client that disconnects mid-stream does not disturb a batched neighbour', async () => {
    const ac = new AbortController();
    const streamed = await postJson(`${s.url}/v1/captions`, { data: wavBase64(SPEECH_7S), max_tokens: 400, temperature: 0, stream: true }, {}, ac.signal);
    const reader = streamed.body!.getReader();
    await reader.read(); // first SSE bytes arrive, then hang up
    const neighbour = postJson(`${s.url}/v1/captions`, { data: wavBase64(SPEECH_3S), max_tokens: 20, temperature: 0 });
    ac.abort();
    const r = await neighbour;
    expect(r.status).toBe(200);
    const want = await solo.caption({ samples: (await decodeAudio(SPEECH_3S)).samples, sampleRate: 16000 }, { temperature: 0, maxNewTokens: 20 });
    expect(((await r.json()) as { caption: string }).caption).toBe(want.caption);
    // a later streamed request still works
    const again = await postJson(`${s.url}/v1/captions`, { data: wavBase64(ALSA_FRONT), max_tokens: 5, temperature: 0, stream: true });
    const events = parseSse(await again.text()).map((e) => JSON.parse(e.data) as { type: string });
    expect(events[events.length - 1].type).toBe('done');
  });
});
