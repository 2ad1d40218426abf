/**
 * Disposal of the embedded local LLM (a child Node process running node-llama-cpp): leaving an
 * `await using` block ends the process, and the model then refuses calls with DISPOSED.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultLocalModelPath, LocalChatModel } from '../../src/llm/local';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

test('await using: the model process is gone at the end of the block; chat() then rejects with DISPOSED', async () => {
  expect(existsSync(defaultLocalModelPath())).toBe(true); // scripts/setup-models.sh
  let model: LocalChatModel | undefined;
  let pid: number | undefined;
  {
    await using llm = await LocalChatModel.load({ contextSize: 512, threads: 1 });
    model = llm;
    pid = llm.pid;
    expect(pid).toBeGreaterThan(0);
    expect(alive(pid!)).toBe(true);
    const r = await llm.chat([{ role: 'user', content: 'Reply with the single word: yes' }], { maxTokens: 4, temperature: 0 });
    expect(r.text.toLowerCase()).toContain('yes');
  }
  expect(alive(pid!)).toBe(false);
  await expect(model.chat([{ role: 'user', content: 'again' }])).rejects.toMatchObject({ code: 'DISPOSED', message: expect.stringMatching(/local LLM .* was disposed/) });
  await model.dispose(); // idempotent
}, 300_000);

test('start(): the model loads in the background; a call made at once waits for it and is answered', async () => {
  await using llm = LocalChatModel.start({ contextSize: 512, threads: 1 });
  let settled = false;
  void llm.loaded.then(() => (settled = true));
  expect(settled).toBe(false);
  const r = await llm.chat([{ role: 'user', content: 'Reply with the single word: yes' }], { maxTokens: 4, temperature: 0 });
  expect(r.text.toLowerCase()).toContain('yes');
  await expect(llm.loaded).resolves.toBeUndefined();
  expect(llm.contextTokens).toBe(512);
}, 300_000);

test('start() with a file that is no GGUF model: loaded rejects with MODEL_INVALID, and so do calls', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bad-gguf-'));
  const file = join(dir, 'broken.gguf');
  writeFileSync(file, Buffer.alloc(1 << 16, 1));
  await using llm = LocalChatModel.start({ modelPath: file, contextSize: 512, threads: 1 });
  const call = llm.chat([{ role: 'user', content: 'hello' }], { maxTokens: 2 });
  await expect(llm.loaded).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringMatching(/failed to load/) });
  await expect(call).rejects.toMatchObject({ code: 'MODEL_INVALID' });
}, 120_000);
