/**
 * The vision-model observer through the real Detective with the embedded instruct LLM
 * (Qwen2.5-Coder-1.5B-Instruct GGUF via node-llama-cpp, CPU): the detective, offered the video
 * observer's report and a vision model that answers questions, asks the vision model in a decision
 * round; the protocol fake's scripted answer ("a red car drives past a tree") reaches the caption
 * with the time of the frames it was seen in.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToolbox, runDetective, VideoAnalyses, videoObserver, vlmObserver, type DetectiveRound, type VlmData } from '../../src/detective';
import { defaultLocalModelPath, LocalChatModel } from '../../src/llm/local';
import { answer, FakeVlm, makeThreeShotVideo } from './vlm-fake';

const dir = mkdtempSync(join(tmpdir(), 'vlm-llm-'));
let llm: LocalChatModel;
let fake: FakeVlm;

beforeAll(async () => {
  expect(existsSync(defaultLocalModelPath())).toBe(true); // scripts/setup-models.sh
  llm = await LocalChatModel.load({ sequences: 2 });
  fake = await FakeVlm.start();
  fake.reply = () => answer('a red car drives past a tree');
}, 120_000);
afterAll(async () => {
  await llm?.dispose();
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

it('the detective asks the vision model, and its answer reaches the caption with its time', async () => {
  const video = makeThreeShotVideo(dir);
  const analyses = new VideoAnalyses();
  const tools = createToolbox({ observers: [videoObserver({ analyses }), vlmObserver({ baseURL: fake.base, model: 'fake-vl', analyses, maxFrames: 4 })] });
  const r = await runDetective({ id: 'red-car', path: video.path }, llm, tools, { rounds: 2, seed: 1, facts: { hasAudio: false, hasVideo: true, durationSeconds: video.duration } });
  await tools.dispose();
  const asked = r.rounds.filter((x): x is Extract<DetectiveRound, { status: 'ok' }> => x.status === 'ok' && x.tool === 'vlm');
  expect(asked.length).toBeGreaterThanOrEqual(1);
  expect(asked[0].upfront).toBeUndefined();
  expect(asked[0].question.trim()).not.toBe('');
  expect(fake.requests.length).toBe(asked.length);
  const times = (asked[0].data as VlmData).frames.map((f) => f.time.toFixed(1));
  const caption = r.caption.toLowerCase();
  expect(caption).toContain('red car');
  expect(caption).toContain('tree');
  // with its time: the caption names a time at which the frames were seen
  expect(times.some((t) => caption.includes(t))).toBe(true);
  // the fact sheet the caption was written from states it as what a vision model said
  const synthesisPrompt = r.messages.find((m) => m.role === 'user' && m.content.includes('FACTS:'));
  expect(synthesisPrompt?.content).toContain('A vision model (fake-vl), shown frames at');
}, 900_000);
