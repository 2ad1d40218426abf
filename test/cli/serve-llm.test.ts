/** `omnicap serve --llm FILE.gguf` in-process: both models load, are listed, and text-only chat is answered. */
import { basename } from 'node:path';
import { main } from '../../src/cli/main';
import { defaultLocalModelPath } from '../../src/llm/local';
import { until } from '../wait';
import { captureIo } from './capture';

test('bad --llm values are usage errors (exit 2)', async () => {
  for (const argv of [['serve', '--llm', 'model.bin'], ['serve', '--llm-threads', '2'], ['serve', '--llm', 'local', '--llm-max-tokens', '0']]) {
    const c = captureIo();
    expect(await main(argv, c)).toBe(2);
    expect(c.err()).toMatch(/INVALID_ARGUMENT/);
  }
});

test('serve --llm FILE.gguf serves the captioner and the text LLM from one base URL', async () => {
  const stop = new AbortController();
  const c = captureIo(stop.signal);
  const gguf = defaultLocalModelPath();
  const id = basename(gguf).replace(/\.gguf$/, '');
  const run = main(['serve', '--port', '0', '--provider', 'cpu', '--threads', '1', '--quiet', '--llm', gguf, '--llm-threads', '1', '--llm-max-tokens', '4'], c);
  try {
    const exitedEarly = run.then((code) => Promise.reject(new Error(`serve exited early with ${code}: ${c.out()} ${c.err()}`)));
    await Promise.race([until(() => /ready, model/.test(c.out()), [[c.stdout, 'data']], 'serve ready', 120_000), exitedEarly]);
    expect(c.out()).toContain(`, text llm ${id}`);
    const url = /listening on (http:\/\/\S+)/.exec(c.out())?.[1];
    const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string; modality: string }> };
    expect(models.data.map((m) => [m.id, m.modality])).toEqual([['qwen3-omni-captioner-tiny-random', 'audio'], [id, 'text']]);
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: id, messages: [{ role: 'user', content: 'Hi' }] }) });
    const body = (await res.json()) as { model: string; usage: { completion_tokens: number } };
    expect(res.status).toBe(200);
    expect(body.model).toBe(id);
    expect(body.usage.completion_tokens).toBeLessThanOrEqual(5); // --llm-max-tokens 4 (counted by re-tokenizing)
  } finally {
    stop.abort();
    expect(await run).toBe(0);
  }
}, 180_000);
