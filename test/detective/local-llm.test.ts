/**
 * The Detective end to end with the embedded instruct LLM (Qwen2.5-Coder-1.5B-Instruct GGUF via
 * node-llama-cpp, CPU) and the real observers on a real clip: a video whose audio is LibriVox read
 * speech and whose picture shows known text. Content, not shape: the caption must carry the spoken
 * words and the on-screen text, and must not echo its prompt.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asrObserver, createToolbox, echoShare, loadDetectivePrompts, ocrObserver, runDetective, signalObserver, vadObserver, words } from '../../src/detective';
import { DEFAULT_LOCAL_MODEL_ID, defaultLocalModelPath, LocalChatModel } from '../../src/llm/local';
import { makeTextVideo, OCR_TEXT, SPEECH_TEXT } from './media';

describe('Detective with the embedded instruct LLM on a real clip', () => {
  let llm: LocalChatModel;
  let video: string;
  beforeAll(async () => {
    expect(existsSync(defaultLocalModelPath())).toBe(true); // scripts/setup-models.sh
    llm = await LocalChatModel.load({ sequences: 2 });
    video = await makeTextVideo(mkdtempSync(join(tmpdir(), 'det-llm-')));
  }, 120_000);
  afterAll(async () => llm?.dispose());

  it('asks every observer that fits the clip, and the caption carries the speech and the on-screen text', async () => {
    const tools = createToolbox({ observers: [signalObserver(), vadObserver(), asrObserver(), ocrObserver()] });
    const r = await runDetective({ id: 'text-video', path: video }, llm, tools, { rounds: 10, seed: 1, facts: { hasAudio: true, hasVideo: true, durationSeconds: 3 } });
    await tools.dispose();
    expect(r.model).toBe(DEFAULT_LOCAL_MODEL_ID);
    // fixed reports: each observer once, gathered up front; no decision round, one synthesis call
    // (a second when the first caption is revised)
    const asked = r.rounds.filter((x) => x.status === 'ok').map((x) => (x as { tool: string }).tool).sort();
    expect(asked).toEqual(['asr', 'ocr', 'signal', 'vad']);
    expect(r.rounds.every((x) => 'upfront' in x && x.upfront === true)).toBe(true);
    expect(r.usage.llmCalls).toBe(r.synthesis.firstAttempt === undefined ? 1 : 2);
    const caption = r.caption.toLowerCase();
    for (const w of OCR_TEXT.toLowerCase().split(' ')) expect(caption).toContain(w);
    const spoken = SPEECH_TEXT.split(' ').filter((w) => words(caption).includes(w));
    expect(spoken.length).toBeGreaterThanOrEqual(4);
    // the LLM's own caption (accepted or not) is no echo of its prompts
    const p = loadDetectivePrompts();
    expect(r.synthesis.check).toBeDefined();
    expect(r.synthesis.check!.metrics.echo).toBeLessThan(0.2);
    expect(echoShare(r.caption, `${p.agent.text}\n${p.synthesis.text}`)).toBeLessThan(0.2);
    if (r.status === 'degraded') expect(r.degradedReasons!.length).toBeGreaterThan(0);
    else expect(r.synthesis.source).toBe('llm');
    expect(r.usage.completionTokens).toBeGreaterThan(20);
  }, 900_000);

  it('a kept prefix is not evaluated again: only what follows the shared instructions is evaluated, and the answer still carries the facts', async () => {
    const instructions = `${loadDetectivePrompts().synthesis.text.split('FACTS:')[0]}FACTS:\n`;
    const prompt = (facts: string): string => `${instructions}${facts}\n\nReply with the caption only.`;
    const first = prompt('The clip is an audio recording lasting 3.0 seconds. A bell rings from 0.2 to 1.4 s.');
    const second = prompt('The clip is an audio recording lasting 5.0 seconds. Speech from 0.5 to 4.5 s: "good morning everyone".');
    const opts = { seed: 3, maxTokens: 48, format: 'prose' as const };
    const a = await llm.chat([{ role: 'user', content: first }], { ...opts, conversation: 'warm' });
    const warm = await llm.chat([{ role: 'user', content: second }], { ...opts, conversation: 'warm' });
    // the other sequence may still hold the previous test's synthesis prompt (same instructions):
    // an unrelated prompt on it first, so the cold run shares no more than the chat template with it
    await llm.chat([{ role: 'user', content: 'Name one colour.' }], { seed: 3, maxTokens: 4, conversation: 'cold' });
    const cold = await llm.chat([{ role: 'user', content: second }], { ...opts, conversation: 'cold' });
    expect(a.text.length).toBeGreaterThan(0);
    // llama.cpp takes other kernels for other batch sizes, so a warm and a cold run may round
    // differently and word the caption differently; both must carry the facts
    for (const r of [warm, cold]) expect(r.text.toLowerCase()).toContain('good morning everyone');
    expect(cold.usage!.evaluatedTokens!).toBeGreaterThan(cold.usage!.promptTokens * 0.8);
    // only what follows the shared instructions was evaluated again
    expect(warm.usage!.evaluatedTokens!).toBeLessThan(cold.usage!.evaluatedTokens! / 3);
    expect(warm.text).not.toMatch(/^\s*[-*#]|\n[-*#]|\*\*/);
  }, 600_000);

  it('rejects a conversation that does not end with a user turn', async () => {
    await expect(llm.chat([{ role: 'assistant', content: 'x' }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
