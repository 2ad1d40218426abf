/**
 * The vision-model observer in a queued run: the run manifest signs its model and video mode but
 * not its URL (a worker may reach the same model elsewhere), and a worker's flags may give another
 * URL and its key but not another model or mode. No Redis needed.
 */
import { makeManifest, runVlmOptions, type ObserverSpec } from '../../src/detective/queue';

const parts = (observers: ObserverSpec): Parameters<typeof makeManifest>[0] => ({
  input: { path: '/clips.jsonl', digest: 'd'.repeat(64), clips: 1 },
  prompts: [{ name: 'agent', version: 'v4', sha256: 'a'.repeat(64) }],
  llm: { kind: 'local', model: 'qwen' },
  observers,
  options: { rounds: 10, seed: 0, promptVersion: 'v4', maxCaptionTokens: 512, synthesis: 'llm', format: 'omnicap', allowRemoteUrls: false },
  policy: { attempts: 3, backoffMs: 5000, jobTimeoutMs: 1_800_000 },
});
const signature = (o: ObserverSpec): string => makeManifest(parts(o)).signature;

it('signs the vision model and its video mode, not where it runs', () => {
  const vlm = { url: 'http://a:8000/v1', model: 'qwen2.5-vl', video: false };
  const base = signature({ names: ['video', 'vlm'], vlm });
  expect(signature({ names: ['video', 'vlm'], vlm: { ...vlm, url: 'http://b:9000/v1' } })).toBe(base);
  expect(signature({ names: ['video', 'vlm'], vlm: { ...vlm, model: 'llava:7b' } })).not.toBe(base);
  expect(signature({ names: ['video', 'vlm'], vlm: { ...vlm, video: true } })).not.toBe(base);
  // a run without a vision model holds no trace of one (its signature is what it was before the field existed)
  expect(JSON.stringify(makeManifest(parts({ names: ['video'] })).observers)).toBe('{"names":["video"]}');
  expect(signature({ names: ['video'] })).not.toBe(base);
});

it("a worker gives another URL and its key for the run's model; another model or mode is refused", () => {
  const spec = { url: 'http://a:8000/v1', model: 'qwen2.5-vl', video: true };
  expect(runVlmOptions(spec)).toEqual({ baseURL: 'http://a:8000/v1', model: 'qwen2.5-vl', video: true });
  expect(runVlmOptions(spec, { url: 'http://near:8000/v1', apiKey: 'k', model: 'qwen2.5-vl', video: true })).toEqual({ baseURL: 'http://near:8000/v1', model: 'qwen2.5-vl', video: true, apiKey: 'k' });
  expect(() => runVlmOptions(spec, { model: 'llava:7b' })).toThrow(expect.objectContaining({ code: 'MODEL_INVALID' }));
  expect(() => runVlmOptions(spec, { video: false })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  expect(runVlmOptions(undefined, { apiKey: 'from-env' })).toBeUndefined();
  expect(() => runVlmOptions(undefined, { url: 'http://near:8000/v1' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('the run has no vlm observer') }));
});
