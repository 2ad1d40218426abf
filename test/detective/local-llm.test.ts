/** End-to-end with the embedded local LLM (Gemma 3 270M GGUF via node-llama-cpp, CPU). */
import { existsSync } from 'node:fs';
import { asrObserver, createToolbox, runDetective, signalObserver } from '../../src/detective';
import { defaultLocalModelPath, detectiveActionSchema, LocalChatModel } from '../../src/llm/local';
import { SPEECH } from './media';

describe('LocalChatModel (embedded GGUF)', () => {
  let llm: LocalChatModel;
  beforeAll(async () => {
    expect(existsSync(defaultLocalModelPath())).toBe(true); // scripts/setup-models.sh
    llm = await LocalChatModel.load({ jsonSchema: detectiveActionSchema(['asr', 'signal']), contextSize: 2048 });
  }, 120_000);
  afterAll(async () => llm?.dispose());

  it('runs the detective structurally end to end on a real clip', async () => {
    const tools = createToolbox({ observers: [asrObserver(), signalObserver()] });
    const r = await runDetective({ id: 'speech', path: SPEECH }, llm, tools, { rounds: 2, seed: 1, maxCaptionTokens: 48 });
    expect(r.rounds.length).toBeGreaterThanOrEqual(1);
    expect(r.rounds.length).toBeLessThanOrEqual(2);
    // grammar-constrained decoding: every round is a valid observation of a known tool, or finish
    for (const round of r.rounds) {
      expect(['ok', 'finish']).toContain(round.status);
      if (round.status === 'ok') expect(['asr', 'signal']).toContain(round.tool);
    }
    const observed = r.rounds.filter((x) => x.status === 'ok').length;
    expect(observed).toBeGreaterThanOrEqual(1);
    expect(Object.values(tools.calls()).reduce((a, b) => a + b, 0)).toBe(observed);
    expect(r.caption.trim().length).toBeGreaterThan(0);
    expect(r.model).toBe('gemma-3-270m-q4_k_m');
    expect(r.usage.completionTokens).toBeGreaterThan(0);
    await tools.dispose();
  }, 170_000);

  it('rejects a conversation that does not end with a user turn', async () => {
    await expect(llm.chat([{ role: 'assistant', content: 'x' }])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
