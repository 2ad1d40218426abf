/**
 * `stopOnRepeat` on the embedded local model (real GGUF): a reply that starts repeating one of its
 * own sentences stops there, keeps what came before the repeat and says `repetition`; without it the
 * same request runs on to its token limit.
 */
import { existsSync } from 'node:fs';
import { defaultLocalModelPath, LocalChatModel } from '../../src/llm/local';

const SENTENCE = 'The quick brown fox jumps over the lazy dog near the river bank.';
const LOOP = `Write this sentence ten times in a row, on one line: ${SENTENCE}`;
const count = (text: string): number => text.split('quick brown fox').length - 1;

test('a reply that repeats a sentence stops at the repeat; without stopOnRepeat it runs to the limit', async () => {
  expect(existsSync(defaultLocalModelPath())).toBe(true); // scripts/setup-models.sh
  await using llm = await LocalChatModel.load({ contextSize: 1024, threads: 2 });
  const looped = await llm.chat([{ role: 'user', content: LOOP }], { seed: 1, maxTokens: 120, stopOnRepeat: true });
  expect(looped.finishReason).toBe('repetition');
  expect(count(looped.text)).toBe(1);
  expect(looped.text.trim().endsWith('river bank.')).toBe(true);
  // the tokens generated, the repeat included, are counted
  expect(looped.usage!.completionTokens).toBeGreaterThan(15);
  const full = await llm.chat([{ role: 'user', content: LOOP }], { seed: 1, maxTokens: 40 });
  expect(full.finishReason).toBe('length');
  expect(count(full.text)).toBeGreaterThan(1);
  // a decimal point ends no sentence ("At 8.8 s ..." and "At 17.8 s ..." differ), short sentences do not count
  const said = 'At 8.8 s a small part of the picture changes. At 17.8 s a small part of the picture changes. OK. OK.';
  const times = await llm.chat([{ role: 'user', content: `Reply with exactly this text and nothing else: ${said}` }], { seed: 1, maxTokens: 60, stopOnRepeat: true });
  expect(times.text).toContain('At 17.8 s a small part of the picture changes.');
  expect(times.finishReason).not.toBe('repetition');
}, 300_000);
