/** The LLM factory: which model for which flags, key precedence, invalid combinations, real construction. */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { main } from '../../src/cli/main';
import { createRunLlm } from '../../src/detective/queue';
import {
  API_KEY_ENV,
  createLlm,
  DEFAULT_LOCAL_MODEL_ID,
  llmChoiceFromFlags,
  LocalChatModel,
  OpenAIChatModel,
  parseThreads,
  resolveApiKey,
  type LlmFlags,
  type LlmFlagRules,
} from '../../src/llm';
import { captureIo } from '../cli/capture';

const code = (f: () => unknown): string | undefined => {
  try {
    f();
    return undefined;
  } catch (e) {
    return (e as { code?: string }).code;
  }
};

describe('llmChoiceFromFlags: which model for which flags', () => {
  it('no flag and --llm local are the embedded GGUF model', () => {
    expect(llmChoiceFromFlags({})).toEqual({ kind: 'local', model: DEFAULT_LOCAL_MODEL_ID });
    expect(llmChoiceFromFlags({ llm: 'local', threads: '2' })).toEqual({ kind: 'local', model: DEFAULT_LOCAL_MODEL_ID });
    expect(llmChoiceFromFlags({}, { defaultLocal: false })).toBeUndefined();
  });

  it('--llm-url with --llm-model is an OpenAI-compatible endpoint', () => {
    expect(llmChoiceFromFlags({ url: 'http://127.0.0.1:9/v1', model: 'qwen', apiKey: 'k' })).toEqual({ kind: 'openai', url: 'http://127.0.0.1:9/v1', model: 'qwen' });
    expect(llmChoiceFromFlags({ url: 'https://api.example/v1', model: 'm' }, { defaultLocal: false })).toEqual({ kind: 'openai', url: 'https://api.example/v1', model: 'm' });
  });

  it('a .gguf file where the command allows one: a local model named after the file', () => {
    expect(llmChoiceFromFlags({ llm: '/models/My-Model.Q4.GGUF' }, { ggufFiles: true })).toEqual({ kind: 'local', model: 'My-Model.Q4', modelPath: '/models/My-Model.Q4.GGUF' });
  });

  it('invalid combinations are INVALID_ARGUMENT naming the flags', () => {
    const cases: Array<[LlmFlags, LlmFlagRules | undefined, RegExp]> = [
      [{ llm: 'local', url: 'http://x/v1', model: 'm' }, undefined, /--llm and --llm-url are exclusive/],
      [{ url: 'http://x/v1' }, undefined, /--llm-url needs --llm-model/],
      [{ model: 'm' }, undefined, /--llm-model needs --llm-url/],
      [{ url: 'ftp://x/v1', model: 'm' }, undefined, /--llm-url must be an http\(s\) URL/],
      [{ url: 'http://x/v1', model: 'm', threads: '2' }, undefined, /--llm-threads applies to a local model/],
      [{ llm: 'gpt-4' }, undefined, /--llm accepts only "local" but received "gpt-4"/],
      [{ llm: 'model.gguf' }, undefined, /accepts only "local"/],
      [{ llm: 'model.bin' }, { ggufFiles: true }, /accepts "local" or a \.gguf file/],
      [{ apiKey: 'k' }, undefined, /--llm-api-key needs --llm-url/],
      [{ threads: '2' }, { defaultLocal: false }, /--llm-threads needs --llm/],
      [{ llm: 'remote' }, { names: { llm: '--judge', url: '--judge-url' } }, /--judge accepts only "local".*--judge-url/],
    ];
    for (const [flags, rules, message] of cases) {
      expect(() => llmChoiceFromFlags(flags, rules)).toThrow(message);
      expect(code(() => llmChoiceFromFlags(flags, rules))).toBe('INVALID_ARGUMENT');
    }
  });

  it('threads: an integer in [1, 256]', () => {
    expect(parseThreads(undefined)).toBeUndefined();
    expect(parseThreads('1')).toBe(1);
    expect(parseThreads('256')).toBe(256);
    for (const bad of ['0', '257', '1.5', '-2', 'two', '', '0x10']) expect(code(() => parseThreads(bad))).toBe('INVALID_ARGUMENT');
  });
});

describe('API key precedence: the flag, else the role variable, never another role', () => {
  const env = { [API_KEY_ENV.llm]: 'env-llm', [API_KEY_ENV.judge]: 'env-judge' };
  it('flag > role variable', () => {
    expect(resolveApiKey('flag', 'llm', env)).toBe('flag');
    expect(resolveApiKey(undefined, 'llm', env)).toBe('env-llm');
    expect(resolveApiKey(undefined, 'judge', env)).toBe('env-judge');
    expect(resolveApiKey('flag', 'judge', env)).toBe('flag');
  });
  it('an unset or empty variable is no key, and the judge never gets the LLM key', () => {
    expect(resolveApiKey(undefined, 'llm', {})).toBeUndefined();
    expect(resolveApiKey(undefined, 'llm', { OMNICAP_LLM_API_KEY: '' })).toBeUndefined();
    expect(resolveApiKey(undefined, 'judge', { OMNICAP_LLM_API_KEY: 'env-llm' })).toBeUndefined();
  });
});

describe('createLlm builds the chosen model', () => {
  let server: Server;
  let url: string;
  const seen: IncomingHttpHeaders[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers);
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ model: 'fake', choices: [{ message: { role: 'assistant', content: 'pong' }, finish_reason: 'stop' }], usage: { prompt_tokens: 1, completion_tokens: 1 } }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('an endpoint: an OpenAIChatModel that sends the resolved key as a bearer token', async () => {
    const llm = await createLlm({ kind: 'openai', url, model: 'fake' }, { apiKey: resolveApiKey(undefined, 'llm', { OMNICAP_LLM_API_KEY: 'sekret' }), threads: 4 });
    expect(llm).toBeInstanceOf(OpenAIChatModel);
    expect(llm.id).toBe('fake');
    const r = await llm.chat([{ role: 'user', content: 'ping' }]);
    expect(r.text).toBe('pong');
    expect(seen.at(-1)?.authorization).toBe('Bearer sekret');
    const anonymous = await createLlm({ kind: 'openai', url, model: 'fake' });
    await anonymous.chat([{ role: 'user', content: 'ping' }]);
    expect(seen.at(-1)?.authorization).toBeUndefined();
  });

  it('the queue worker builds the run\'s LLM through the factory: its URL override and key, never another local model', async () => {
    const llm = await createRunLlm({ kind: 'openai', url: 'http://127.0.0.1:9/unused', model: 'fake' }, { url, apiKey: 'worker-key' }, 4);
    expect(llm).toBeInstanceOf(OpenAIChatModel);
    expect((await llm.chat([{ role: 'user', content: 'ping' }])).text).toBe('pong');
    expect(seen.at(-1)?.authorization).toBe('Bearer worker-key');
    await expect(createRunLlm({ kind: 'local', model: 'some-other-model' }, {}, 1)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining(`this worker has ${DEFAULT_LOCAL_MODEL_ID} (give the model file with --llm FILE.gguf)`) });
    // a run on another local GGUF: the worker's own copy of that file, matched by its name
    await expect(createRunLlm({ kind: 'local', model: 'some-other-model' }, { modelPath: '/models/another-model.gguf' }, 1)).rejects.toMatchObject({ code: 'MODEL_INVALID', message: expect.stringContaining('this worker has another-model') });
    await expect(createRunLlm({ kind: 'local', model: 'some-other-model' }, { modelPath: '/nonexistent/some-other-model.gguf' }, 1)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining('/nonexistent/some-other-model.gguf') });
    await expect(createRunLlm({ kind: 'openai', url, model: 'fake' }, { modelPath: '/models/fake.gguf' }, 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(createRunLlm({ kind: 'local', model: DEFAULT_LOCAL_MODEL_ID }, { url }, 1)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/--llm-url cannot replace it/) });
  });

  it('a GGUF file that does not exist: MODEL_NOT_FOUND from the local loader', async () => {
    await expect(createLlm({ kind: 'local', model: 'nope', modelPath: '/nonexistent/nope.gguf' })).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND', message: expect.stringContaining('/nonexistent/nope.gguf') });
  });

  it('local resources out of range are INVALID_ARGUMENT before anything loads', async () => {
    await expect(createLlm({ kind: 'local', model: DEFAULT_LOCAL_MODEL_ID }, { sequences: 65 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/sequences/) });
  });

  it('the embedded model: a LocalChatModel under the embedded id, with its context window', async () => {
    const llm = await createLlm({ kind: 'local', model: DEFAULT_LOCAL_MODEL_ID }, { threads: 1, sequences: 1 });
    try {
      expect(llm).toBeInstanceOf(LocalChatModel);
      expect(llm.id).toBe(DEFAULT_LOCAL_MODEL_ID);
      expect(llm.contextTokens).toBeGreaterThanOrEqual(2048);
    } finally {
      await llm.dispose?.();
    }
  });
});

describe('every command takes its LLM flags through the factory', () => {
  async function run(argv: string[]): Promise<{ code: number; err: string }> {
    const io = captureIo();
    return { code: await main(argv, io), err: io.err() };
  }

  it.each([
    [['detect', '--input', 'x', '--output', 'y', '--llm', 'local', '--llm-url', 'http://x/v1', '--llm-model', 'm'], /--llm and --llm-url are exclusive/],
    [['detect', '--input', 'x', '--output', 'y', '--llm-api-key', 'k'], /--llm-api-key needs --llm-url/],
    [['detect', '--input', 'x', '--output', 'y', '--llm-threads', '0'], /Expected an integer in \[1, 256\] for --llm-threads but received number 0/],
    [['detect', '--queue', 'redis://127.0.0.1:1/0', '--input', 'x', '--output', 'y', '--llm-api-key', 'k'], /--llm-api-key is a worker setting/],
    [['worker', '--queue', 'redis://127.0.0.1:1/0', '--llm-url', 'file:///etc/passwd'], /--llm-url must be an http\(s\) URL/],
    [['cloze', 'eval', '--input', 'x', '--output', 'y', '--judge', 'gpt'], /--judge accepts only "local"/],
    [['cloze', 'eval', '--input', 'x', '--output', 'y', '--judge-url', 'http://x/v1'], /--judge-url needs --judge-model/],
    [['cloze', 'build', '--input', 'x', '--output', 'y', '--llm-url', 'http://x/v1', '--llm-model', 'm', '--judge', 'local', '--judge-url', 'http://x/v1', '--judge-model', 'm'], /--judge and --judge-url are exclusive/],
    [['cloze', 'build', '--input', 'x', '--output', 'y'], /--llm-url and --llm-model \(or --llm local\) are required/],
    [['serve', '--llm', 'model.bin'], /--llm accepts "local" or a \.gguf file/],
    [['detect', '--input', 'x', '--output', 'y', '--llm', 'model.bin'], /--llm accepts "local" or a \.gguf file/],
    [['worker', '--queue', 'redis://127.0.0.1:1/0', '--llm', 'model.bin'], /--llm accepts "local" or a \.gguf file/],
  ])('%j', async (argv, message) => {
    const r = await run(argv);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/INVALID_ARGUMENT/);
    expect(r.err).toMatch(message);
  });
});
