/**
 * One set of ranges for the text LLM: at and around every bound of LLM_LIMITS, the LLM flags of
 * `detect`, `cloze eval|build` and `cascade eval` (through the real commands: a refused flag fails
 * naming it, an accepted one gets as far as reading the missing input), the LLM backends'
 * checks and the server's chat-completion fields accept and refuse the same values, and a refusal
 * reads the same everywhere but for the name of the field. `worker` and `serve` (which connect
 * to Redis or load models once their flags pass) are checked on the refusals.
 */
import { command as cascadeCommand } from '../../src/cli/commands/cascade';
import { command as clozeCommand } from '../../src/cli/commands/cloze';
import { command as detectCommand } from '../../src/cli/commands/detect';
import { command as serveCommand } from '../../src/cli/commands/serve';
import { command as workerCommand } from '../../src/cli/commands/worker';
import type { CliCommand } from '../../src/cli/types';
import type { OmnicapError } from '../../src/errors';
import { OpenAIChatModel, parseThreads } from '../../src/llm';
import { ChatCompletionRequest, LLM_LIMITS, checkLlmCallOptions, checkLlmResources, inRange, type NumberRange } from '../../src/schema';
import { bodyChecker } from '../../src/server/params';
import { captureIo } from '../cli/capture';
import { failure, probes } from './range-probes';

type Key = keyof typeof LLM_LIMITS;

/** Nothing listens on the discard port: an endpoint that is never contacted. */
const ENDPOINT = 'http://127.0.0.1:9/v1';
const MISSING = '/nonexistent/omnicap-input.jsonl';

interface FlagCase {
  command: CliCommand;
  /** The command line before the flag under test. */
  argv: string[];
  flag: string;
  key: Key;
}

const CASES: FlagCase[] = [
  { command: detectCommand, argv: ['--input', MISSING, '--output', '/nonexistent/out.jsonl'], flag: 'seed', key: 'seed' },
  { command: detectCommand, argv: ['--input', MISSING, '--output', '/nonexistent/out.jsonl'], flag: 'max-caption-tokens', key: 'maxTokens' },
  { command: detectCommand, argv: ['--input', MISSING, '--output', '/nonexistent/out.jsonl'], flag: 'llm-threads', key: 'threads' },
  { command: clozeCommand, argv: ['eval', '--input', MISSING, '--output', '/nonexistent/out.jsonl', '--judge-url', ENDPOINT, '--judge-model', 'm', '--no-progress'], flag: 'temperature', key: 'temperature' },
  { command: clozeCommand, argv: ['eval', '--input', MISSING, '--output', '/nonexistent/out.jsonl', '--judge-url', ENDPOINT, '--judge-model', 'm', '--no-progress'], flag: 'seed', key: 'seed' },
  { command: clozeCommand, argv: ['eval', '--input', MISSING, '--output', '/nonexistent/out.jsonl', '--judge-url', ENDPOINT, '--judge-model', 'm', '--no-progress'], flag: 'timeout-ms', key: 'timeoutMs' },
  { command: clozeCommand, argv: ['build', '--input', MISSING, '--output', '/nonexistent/out.jsonl', '--llm-url', ENDPOINT, '--llm-model', 'm'], flag: 'seed', key: 'seed' },
  { command: cascadeCommand, argv: ['eval', '--input', MISSING, '--output', '/nonexistent/out.jsonl', '--baseline', '--answerer-url', ENDPOINT, '--answerer-model', 'm', '--no-progress'], flag: 'seed', key: 'seed' },
  { command: cascadeCommand, argv: ['eval', '--input', MISSING, '--output', '/nonexistent/out.jsonl', '--baseline', '--answerer-url', ENDPOINT, '--answerer-model', 'm', '--no-progress'], flag: 'timeout-ms', key: 'timeoutMs' },
];

/** The chat-completion request field of each sampling option (the text LLM route). */
const HTTP: Partial<Record<Key, string>> = { temperature: 'temperature', topP: 'top_p', maxTokens: 'max_tokens', seed: 'seed' };

const checkChat = bodyChecker(ChatCompletionRequest);

/** The command's refusal of the flag, or undefined when it got past the flags (to the missing input). */
async function cliRefusal(c: FlagCase, value: string): Promise<OmnicapError | undefined> {
  const e = await c.command.run([...c.argv, `--${c.flag}=${value}`], captureIo()).then(
    () => undefined,
    (x: unknown) => x as OmnicapError,
  );
  if (e?.code === 'INVALID_ARGUMENT' && e.details?.parameter === `--${c.flag}`) return e;
  expect(e?.code).toBe('NOT_FOUND'); // past the flags, at the input file
  return undefined;
}

/** A message with the field's name taken out, to compare refusals across layers. */
const unnamed = (e: OmnicapError | undefined, name: string): string | undefined => e?.message.replace(` for ${name} `, ' for <field> ');

describe('LLM_LIMITS drive the LLM flags of every command, the LLM backends and the server alike', () => {
  for (const c of CASES) {
    test(`${c.command.name} ${c.argv[0].startsWith('--') ? '' : `${c.argv[0]} `}--${c.flag} (${c.key})`, async () => {
      const range: NumberRange = LLM_LIMITS[c.key];
      const rows: Array<{ value: number; expected: boolean; cli: boolean; llm: boolean; server?: boolean }> = [];
      for (const value of probes(range)) {
        const cli = await cliRefusal(c, String(value));
        const llm = failure(() => (c.key === 'threads' || c.key === 'timeoutMs' ? checkLlmResources({ [c.key]: value }) : checkLlmCallOptions({ [c.key]: value })));
        if (llm !== undefined) expect(llm.details?.parameter).toBe(c.key);
        const field = HTTP[c.key];
        const server = field === undefined ? undefined : failure(() => checkChat({ messages: [{ role: 'user', content: 'hi' }], [field]: value }, false));
        // the same words wherever it is refused: "Expected an integer in [0, 2147483647] for <field> but received number -1"
        if (cli !== undefined && llm !== undefined) expect(unnamed(cli, `--${c.flag}`)).toBe(unnamed(llm, c.key));
        if (cli !== undefined && server !== undefined && field !== undefined) expect(unnamed(cli, `--${c.flag}`)).toBe(unnamed(server, field));
        rows.push({ value, expected: inRange(value, range), cli: cli === undefined, llm: llm === undefined, ...(field !== undefined ? { server: server === undefined } : {}) });
      }
      for (const r of rows) expect(r).toEqual({ value: r.value, expected: r.expected, cli: r.expected, llm: r.expected, ...(HTTP[c.key] !== undefined ? { server: r.expected } : {}) });
      expect(rows.some((r) => r.expected) && rows.some((r) => !r.expected)).toBe(true);
    });
  }

  test('a refused flag reads as the server refusing the same field', async () => {
    const temp = await cliRefusal(CASES[3], '2.5');
    expect(temp?.message).toBe('Expected a number in [0, 2] for --temperature but received number 2.5');
    expect(failure(() => checkChat({ messages: [{ role: 'user', content: 'hi' }], temperature: 2.5 }, false))?.message).toBe('Expected a number in [0, 2] for temperature but received number 2.5');
    const hex = await cliRefusal(CASES[0], '0x10');
    expect(hex?.message).toBe('Expected an integer in [0, 2147483647] for --seed but received string "0x10"');
  });

  test('worker and serve refuse --llm-threads / --llm-max-tokens outside the ranges before connecting or loading anything', async () => {
    for (const bad of ['0', '257', '1.5', 'two']) {
      await expect(workerCommand.run(['--queue', 'redis://127.0.0.1:1/0', '--llm-threads', bad], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: '--llm-threads' } });
      await expect(serveCommand.run(['--model', '/nonexistent/model', '--llm', 'local', '--llm-threads', bad], captureIo())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: '--llm-threads' } });
    }
    await expect(serveCommand.run(['--model', '/nonexistent/model', '--llm', 'local', '--llm-max-tokens', String(LLM_LIMITS.maxTokens.max + 1)], captureIo())).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: `Expected an integer in [1, ${LLM_LIMITS.maxTokens.max}] for --llm-max-tokens but received number ${LLM_LIMITS.maxTokens.max + 1}`,
    });
    expect(parseThreads(String(LLM_LIMITS.threads.max))).toBe(LLM_LIMITS.threads.max);
    expect(parseThreads('1')).toBe(1);
  });

  test('the endpoint client refuses out-of-range call options and timeouts before any request', async () => {
    const llm = new OpenAIChatModel({ baseURL: ENDPOINT, model: 'm' });
    const msgs = [{ role: 'user' as const, content: 'hi' }];
    await expect(llm.chat(msgs, { topP: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'topP' }, message: 'Expected a number in (0, 1] for topP but received number 0' });
    await expect(llm.chat(msgs, { temperature: 3 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'temperature' } });
    await expect(llm.chat(msgs, { maxTokens: 0 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'maxTokens' } });
    expect(llm.attempts).toBe(0);
    expect(failure(() => new OpenAIChatModel({ baseURL: ENDPOINT, model: 'm', timeoutMs: 0 }))).toMatchObject({ code: 'INVALID_ARGUMENT', details: { parameter: 'timeoutMs' } });
    expect(failure(() => new OpenAIChatModel({ baseURL: ENDPOINT, model: 'm', timeoutMs: LLM_LIMITS.timeoutMs.max }))).toBeUndefined();
  });
});
