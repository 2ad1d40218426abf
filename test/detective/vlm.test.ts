/**
 * The vision-model observer against a protocol fake of an OpenAI-compatible vision endpoint on
 * loopback (./vlm-fake.ts), on a rendered video of three different sources with hand-labelled cuts:
 * the request's shape (image parts within the bound, JPEGs decoded with sharp within the size bound
 * and showing the picture of their time, timestamps at the real scene cuts plus coverage), a video
 * part with --vlm-video, every way the endpoint fails as an observer error with its code while the
 * clip still gets its caption, and the answer reaching the fact sheet with the times it saw.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { chooseFrameTimes, createToolbox, detectClip, FIXED_REPORT_QUESTION, isRefusal, runBatch, runDetective, VideoAnalyses, videoObserver, vlmObserver, type DetectiveRound, type VideoData, type VlmData, type VlmOptions } from '../../src/detective';
import { extractFrames, probeMedia } from '../../src/media';
import { ScriptedChatModel } from './scripted-llm';
import { answer, dataUrlBytes, FakeVlm, frameTimes, makeThreeShotVideo, type Part, type Reply } from './vlm-fake';

const dir = mkdtempSync(join(tmpdir(), 'vlm-obs-'));
let fake: FakeVlm;
let video: ReturnType<typeof makeThreeShotVideo>;
/** One analysis of the test video for every observer below (as the default observer set shares it). */
const analyses = new VideoAnalyses();
const RED_CAR = 'a red car drives past a tree';

beforeAll(async () => {
  fake = await FakeVlm.start();
  video = makeThreeShotVideo(dir);
}, 60_000);
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  fake.requests.length = 0;
  fake.reply = () => answer(RED_CAR);
});

const live = (): AbortSignal => new AbortController().signal;
const vlm = (o: Partial<VlmOptions> = {}): ReturnType<typeof vlmObserver> => vlmObserver({ baseURL: fake.base, model: 'fake-vl', analyses, ...o });
const texts = (parts: readonly Part[]): string[] => parts.flatMap((p) => (p.type === 'text' ? [p.text] : []));

/** Mean absolute difference of two pictures at 64x36 grey. */
async function pictureDistance(a: Buffer, b: Buffer): Promise<number> {
  const grey = async (x: Buffer): Promise<Buffer> => sharp(x).resize(64, 36, { fit: 'fill' }).greyscale().raw().toBuffer();
  const [ga, gb] = await Promise.all([grey(a), grey(b)]);
  let d = 0;
  for (let i = 0; i < ga.length; i++) d += Math.abs(ga[i] - gb[i]);
  return d / ga.length;
}

async function referenceFrame(time: number): Promise<Buffer> {
  const f = (await extractFrames(video.path, { fps: 25, format: 'png', maxFrames: 1, startSeconds: time })).frames[0];
  if (f?.format !== 'png') throw new Error(`no frame at ${time} s`);
  return Buffer.from(f.data);
}

describe('the request', () => {
  it('frames at the real scene cuts plus coverage: at most 8 JPEG image_url parts, longest side 768 px, each labelled with its time and showing the picture of that time', async () => {
    const v = await videoObserver({ analyses }).observe({ media: { path: video.path }, question: FIXED_REPORT_QUESTION, signal: live() });
    const cuts = (v.data as VideoData).cuts.map((c) => c.time);
    expect(cuts).toHaveLength(video.cuts.length);
    cuts.forEach((c, i) => expect(Math.abs(c - video.cuts[i])).toBeLessThanOrEqual(0.04 + 1e-6));

    const r = await vlm({ apiKey: 'sk-vlm' }).observe({ media: { path: video.path }, question: 'What happens in the video?', signal: live() });
    expect(analyses.runs).toBe(1); // the scene cuts came from the video observer's analysis: the video was not decoded again
    expect(fake.requests).toHaveLength(1);
    const req = fake.requests[0];
    expect([req.path, req.auth, req.body.model]).toEqual(['/v1/chat/completions', 'Bearer sk-vlm', 'fake-vl']);
    expect(req.body.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(req.body.messages[0].content).toMatch(/from what is visible only/);

    const parts = fake.parts(0);
    const images = parts.filter((p): p is Extract<Part, { type: 'image_url' }> => p.type === 'image_url');
    expect(parts.some((p) => p.type === 'video_url')).toBe(false);
    expect(images.length).toBeGreaterThanOrEqual(5);
    expect(images.length).toBeLessThanOrEqual(8);
    const times = frameTimes(parts);
    expect(times).toHaveLength(images.length);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    // each label comes right before its picture
    parts.forEach((p, i) => p.type === 'image_url' && expect(parts[i - 1]).toMatchObject({ type: 'text', text: expect.stringMatching(/^Frame at \d+\.\d s/) }));
    // a frame early in every shot, the ones after the cuts said to open a new shot
    for (const cut of video.cuts) {
      const t = times.find((x) => x >= cut && x <= cut + 0.3);
      expect(t).toBeDefined();
      expect(texts(parts)).toContain(`Frame at ${t!.toFixed(1)} s (a new shot begins):`);
    }
    expect(times[0]).toBeLessThanOrEqual(0.3);
    // coverage: no stretch of the clip without a frame longer than a quarter of it
    [...times, video.duration].reduce((prev, t) => (expect(t - prev).toBeLessThanOrEqual(video.duration / 4 + 1e-6), t));
    expect(texts(parts)[0]).toBe(`${times.length} frames of the video follow in time order, at ${times.slice(0, -1).map((t) => t.toFixed(1)).join(', ')} and ${times.at(-1)!.toFixed(1)} s.`);
    expect(texts(parts).at(-1)).toBe('Question: What happens in the video?');

    for (const [i, img] of images.entries()) {
      const jpeg = dataUrlBytes(img.image_url.url, 'image/jpeg');
      const meta = await sharp(jpeg).metadata();
      expect(meta.format).toBe('jpeg');
      expect([meta.width, meta.height]).toEqual([768, 432]); // 1024x576 scaled to a longest side of 768
      // the picture of its own time, not of another shot
      const own = await pictureDistance(jpeg, await referenceFrame(times[i]));
      const otherShot = await pictureDistance(jpeg, await referenceFrame(times[i] < 2 ? 2.8 : 1.0));
      expect(own).toBeLessThan(otherShot / 3);
    }

    const data = r.data as VlmData;
    expect(data).toMatchObject({ model: 'fake-vl', said: RED_CAR, mode: 'frames', question: 'What happens in the video?' });
    expect(data.frames.map((f) => Number(f.time.toFixed(1)))).toEqual(times); // labelled to a tenth of a second
    expect(data.cuts).toEqual(cuts);
    expect(r.answer).toBe(`Seen in frames at ${times.slice(0, -1).map((t) => t.toFixed(1)).join(', ')} and ${times.at(-1)!.toFixed(1)} s: ${RED_CAR}`);
  }, 120_000);

  it('--vlm-video: one video_url part, an MP4 of the clip without sound, longest side 768 px, the cuts named in the text', async () => {
    const r = await vlm({ video: true }).observe({ media: { path: video.path }, question: 'What happens?', signal: live() });
    const parts = fake.parts(0);
    expect(parts.map((p) => p.type)).toEqual(['text', 'video_url', 'text']);
    const mp4 = dataUrlBytes((parts[1] as Extract<Part, { type: 'video_url' }>).video_url.url, 'video/mp4');
    expect(mp4.byteLength).toBeLessThanOrEqual(16 * 1024 * 1024);
    const file = join(dir, 'sent.mp4');
    writeFileSync(file, mp4);
    const probe = await probeMedia(file);
    expect(probe.hasAudio).toBe(false);
    expect(probe.streams.find((s) => s.type === 'video')).toMatchObject({ width: 768, height: 432 });
    expect(Math.abs(probe.durationSeconds - video.duration)).toBeLessThan(0.6);
    expect(texts(parts)[0]).toBe('The video lasts 6.0 s (shown at 2 frames per second; scene cuts at 2.0 and 3.6 s).');
    expect(r.data).toMatchObject({ mode: 'video', frames: [], video: { start: 0, end: 6, fps: 2, width: 768, height: 432, bytes: mp4.byteLength } });
    expect(r.answer).toBe(`Seen in the video from 0.0 to 6.0 s: ${RED_CAR}`);
    // a clip that does not fit the byte limit is a media error, before any request
    fake.requests.length = 0;
    await expect(vlm({ video: true, maxVideoBytes: 1000 }).observe({ media: { path: video.path }, question: 'q', signal: live() })).rejects.toMatchObject({ code: 'MEDIA_TOO_LARGE' });
    expect(fake.requests).toHaveLength(0);
  }, 120_000);
});

describe('frame choice', () => {
  it('one frame early in each shot, spread over the shots when there are more than the bound, then even coverage', () => {
    const many = chooseFrameTimes(30, Array.from({ length: 20 }, (_, i) => i + 1.5), 8);
    expect(many).toHaveLength(8);
    expect(many.every((f) => f.atCut || f.time === 0.2)).toBe(true);
    expect(many[0].time).toBe(0.2);
    expect(many.at(-1)!.time).toBe(20.7);
    expect(chooseFrameTimes(8, [], 8).map((f) => f.time)).toEqual([0.2, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]);
    expect(chooseFrameTimes(6, [2, 3.6], 8).filter((f) => f.atCut).map((f) => f.time)).toEqual([2.2, 3.8]);
    // a short clip gets few frames, a quarter of a second apart at least; a single frame gets one
    const short = chooseFrameTimes(0.6, [], 8).map((f) => f.time);
    expect(short.length).toBeLessThanOrEqual(3);
    short.slice(1).forEach((t, i) => expect(t - short[i]).toBeGreaterThanOrEqual(0.25 - 1e-9));
    expect(chooseFrameTimes(0.04, [], 8)).toEqual([{ time: 0, atCut: false }]);
    expect(() => chooseFrameTimes(5, [], 0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('failures', () => {
  it('tells refusals from descriptions that mention what cannot be seen', () => {
    for (const r of ["I'm sorry, but I can't see images. I can only read text.", 'I am unable to view the provided images.', 'As a text-based AI, I cannot help with that.', 'No images were provided in your message.', "I don't see any image attached."]) expect(isRefusal(r)).toBe(true);
    for (const d of ["I can't see the driver's face in the images, but a red car drives past a tree.", 'No text is visible in the frames.', 'A test pattern, then colour bars; the picture cannot be made out at 5.0 s.']) expect(isRefusal(d)).toBe(false);
  });

  const cases: Array<[string, string, Reply | 'down', Partial<VlmOptions>]> = [
    ['HTTP 500 (retried, then given up)', 'UPSTREAM_ERROR', { status: 500, body: '{"error":{"message":"CUDA out of memory"}}' }, { maxAttempts: 2 }],
    ['HTTP 400 (not retried)', 'UPSTREAM_ERROR', { status: 400, body: '{"error":{"message":"image input is not supported"}}' }, {}],
    ['a body that is not JSON', 'UPSTREAM_BAD_RESPONSE', { status: 200, body: '<html><body>502 Bad Gateway</body></html>' }, {}],
    ['JSON without an answer', 'UPSTREAM_BAD_RESPONSE', { status: 200, body: '{"choices":[]}' }, {}],
    ['a model that cannot see images', 'UPSTREAM_REFUSED', answer("I'm sorry, but I can't see images. As a text-only model I can only work with text."), {}],
    ['a refusal field', 'UPSTREAM_REFUSED', answer('', { refusal: 'I cannot help with that request.' }), {}],
    ['an endpoint that is down', 'UPSTREAM_UNREACHABLE', 'down', { maxAttempts: 1 }],
    ['an endpoint that does not answer in time', 'UPSTREAM_TIMEOUT', 'hold', { timeoutMs: 500 }],
  ];

  let downUrl = '';
  beforeAll(async () => {
    // a port that was just free: nothing listens on it
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    const { port } = s.address() as { port: number };
    await new Promise<void>((r) => s.close(() => r()));
    downUrl = `http://127.0.0.1:${port}/v1`;
  });

  it.each(cases)('%s: observer error %s, and the clip still gets its caption', async (_name, code, reply, o) => {
    fake.reply = () => (reply === 'down' ? answer('unused') : reply);
    const options = { maxFrames: 2, ...(reply === 'down' ? { baseURL: downUrl } : {}), ...o };
    const err = await vlm(options).observe({ media: { path: video.path }, question: 'q', signal: live() }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code, message: expect.any(String) });
    if (reply === 'hold') await fake.requests[0].closed; // the request was really given up, not left open
    if (typeof reply === 'object' && reply.status === 500) expect(fake.requests).toHaveLength(2);
    if (typeof reply === 'object' && reply.status === 400) expect(fake.requests).toHaveLength(1);

    const llm = new ScriptedChatModel(['{"tool":"vlm","question":"What is seen?"}', '{"tool":"finish","question":""}']);
    const tools = createToolbox({ observers: [videoObserver({ analyses }), vlm(options)] });
    const r = await runDetective({ id: 'three-shots', path: video.path }, llm, tools, { rounds: 2, synthesis: 'template', facts: { hasAudio: false, hasVideo: true, durationSeconds: 6 } });
    await tools.dispose();
    const failed = r.rounds.find((x): x is Extract<DetectiveRound, { status: 'observer_error' }> => x.status === 'observer_error');
    expect(failed).toMatchObject({ tool: 'vlm', question: 'What is seen?', error: { code } });
    expect(r.status).toBe('ok');
    expect(r.caption).toContain('it has 3 shots, with cuts at 2.0 and 3.6 s');
    expect(r.caption).not.toMatch(/vision model/i);
  }, 60_000);

  it('the 503 of a loaded server is retried after its Retry-After, then answered', async () => {
    let n = 0;
    fake.reply = () => (n++ === 0 ? { status: 503, body: '{"error":"busy"}', headers: { 'retry-after': '0' } } : answer(RED_CAR));
    const r = await vlm({ maxFrames: 2 }).observe({ media: { path: video.path }, question: 'q', signal: live() });
    expect(fake.requests).toHaveLength(2);
    expect((r.data as VlmData).said).toBe(RED_CAR);
  }, 60_000);

  it("the run's own abort propagates as itself (not an observer error) and gives up the request", async () => {
    const stop = new AbortController();
    fake.reply = () => {
      stop.abort();
      return 'hold';
    };
    await expect(vlm({ maxFrames: 2 }).observe({ media: { path: video.path }, question: 'q', signal: stop.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await fake.requests[0].closed;
  }, 60_000);

  it('a batch against an endpoint that never answers finishes: every clip has its line, with the timeout in its round', async () => {
    fake.reply = () => 'hold';
    const clips = ['a', 'b'].map((id) => {
      const path = join(dir, `${id}.mp4`);
      copyFileSync(video.path, path);
      return { id, path };
    });
    // per conversation, by the assistant turns so far: the video's fixed report is the first
    const llm = new ScriptedChatModel(['{"tool":"finish","question":""}', '{"tool":"vlm","question":"What is seen?"}', '{"tool":"finish","question":""}'], undefined, true);
    const tools = createToolbox({ observers: [videoObserver({ analyses }), vlm({ maxFrames: 2, timeoutMs: 500 })] });
    const output = join(dir, 'batch.jsonl');
    const s = await runBatch({ clips, output, llm, toolbox: tools, workers: 2, rounds: 2, synthesis: 'template' });
    await tools.dispose();
    expect(s).toMatchObject({ ok: 2, errors: 0 });
    await Promise.all(fake.requests.map((q) => q.closed));
    const lines = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; caption: string; omni_detective_trajectory: DetectiveRound[]; models: { observers: string[] } });
    expect(lines.map((l) => l.id).sort()).toEqual(['a', 'b']);
    for (const l of lines) {
      expect(l.omni_detective_trajectory.find((x) => x.status === 'observer_error')).toMatchObject({ tool: 'vlm', error: { code: 'UPSTREAM_TIMEOUT' } });
      expect(l.caption).toContain('it has 3 shots');
      expect(l.models.observers).toEqual(['video', 'vlm:fake-vl']);
    }
  }, 120_000);
});

describe('the answer in the fact sheet', () => {
  it('is stated as what a vision model said, with the model and the times of the frames it saw', async () => {
    const llm = new ScriptedChatModel(['{"tool":"vlm","question":"What happens in the video?"}', '{"tool":"finish","question":""}']);
    const tools = createToolbox({ observers: [videoObserver({ analyses }), vlm()] });
    const out = await detectClip({ id: 'red-car', path: video.path }, llm, tools, { rounds: 2, synthesis: 'template' });
    await tools.dispose();
    const record = out.record as { caption: string; omni_detective_trajectory: DetectiveRound[]; models: { observers: string[] } };
    const round = record.omni_detective_trajectory.find((x): x is Extract<DetectiveRound, { status: 'ok' }> => x.status === 'ok' && x.tool === 'vlm');
    expect(round?.upfront).toBeUndefined(); // asked in a decision round: it answers questions
    const times = (round!.data as VlmData).frames.map((f) => f.time.toFixed(1));
    expect(record.caption).toContain(`A vision model (fake-vl), shown frames at ${times.slice(0, -1).join(', ')} and ${times.at(-1)} s, describes the picture: ${RED_CAR}.`);
    expect(record.models.observers).toEqual(['video', 'vlm:fake-vl']);
    expect(out.status).toBe('ok');
  }, 60_000);
});
