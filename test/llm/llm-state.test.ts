/**
 * Saved conversation state of the embedded local LLM (src/llm/state.ts, the worker's persist path):
 * a later process starts a persistent conversation from the state an earlier one saved, so the
 * shared beginning of its prompts is not evaluated again; a state directory or file another user
 * could have written is never loaded; a corrupt state is reported, replaced, and costs only time.
 * Real model processes throughout.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command as prepare } from '../../src/cli/commands/prepare';
import { loadDetectivePrompts, synthesisConversation, synthesisInstructions } from '../../src/detective';
import { defaultLlmStateDir, llmStateDirFrom, type ChatOptions, type ChatResult } from '../../src/llm';
import { defaultLocalModelPath, LocalChatModel } from '../../src/llm/local';
import { privateDir } from '../../src/util/trusted-file';
import { runCommand } from '../cli/capture';

const instructions = `${synthesisInstructions(loadDetectivePrompts())}`;
const prompt = (facts: string): string => `${instructions}${facts}\n\nReply with the caption only.`;
const opts = { seed: 3, maxTokens: 24, format: 'prose' as const, conversation: 'test:synthesis', base: instructions, persist: true };
const states = (dir: string): string[] => readdirSync(dir).filter((f) => f.endsWith('.kv'));

describe('state directory flags and checks', () => {
  it('--llm-state: off is none, a path is itself, nothing is the per-user cache', () => {
    expect(llmStateDirFrom('off')).toBeUndefined();
    expect(llmStateDirFrom('/data/s')).toBe('/data/s');
    const home = mkdtempSync(join(tmpdir(), 'xdg-'));
    expect(llmStateDirFrom(undefined, { XDG_CACHE_HOME: home })).toBe(join(home, 'omnicap', 'llm-state'));
    expect(statSync(join(home, 'omnicap', 'llm-state')).mode & 0o777).toBe(0o700);
    // the default that cannot be used is a warning and no state; a directory given is checked when the model starts
    chmodSync(join(home, 'omnicap', 'llm-state'), 0o777);
    const warned: string[] = [];
    expect(llmStateDirFrom(undefined, { XDG_CACHE_HOME: home }, (m) => warned.push(m))).toBeUndefined();
    expect(warned).toEqual([expect.stringMatching(/no saved LLM state .*other users.*--llm-state off/)]);
    expect(defaultLlmStateDir({ HOME: '/home/u' })).toMatch(/\/\.cache\/omnicap\/llm-state$/);
    expect(() => llmStateDirFrom(' ')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('privateDir creates a 0700 directory and refuses one other users can write', () => {
    const root = mkdtempSync(join(tmpdir(), 'llm-state-dir-'));
    const made = privateDir(join(root, 'a', 'b'));
    expect(statSync(made).mode & 0o777).toBe(0o700);
    const open = join(root, 'open');
    mkdirSync(open);
    chmodSync(open, 0o777);
    expect(() => privateDir(open)).toThrow(expect.objectContaining({ code: 'UNTRUSTED_FILE', message: expect.stringMatching(/other users \(mode 777\)/) }));
    chmodSync(open, 0o775);
    expect(() => privateDir(open)).toThrow(expect.objectContaining({ code: 'UNTRUSTED_FILE' }));
  });

  it('a local model with a state directory others can write is refused before it starts', async () => {
    const open = mkdtempSync(join(tmpdir(), 'llm-state-open-'));
    chmodSync(open, 0o777);
    await expect(LocalChatModel.load({ stateDir: open, contextSize: 1024, threads: 1 })).rejects.toMatchObject({ code: 'UNTRUSTED_FILE' });
  });
});

describe('persistent conversations across model processes', () => {
  beforeAll(() => expect(existsSync(defaultLocalModelPath())).toBe(true)); // scripts/setup-models.sh

  it('the second process evaluates only what follows the saved beginning; a corrupt or foreign-writable state is not loaded', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'llm-state-')), 'states');
    const warnings: string[] = [];
    const load = (): Promise<LocalChatModel> => LocalChatModel.load({ stateDir: dir, contextSize: 2048, threads: 2, onWarning: (m) => warnings.push(m) });
    const first = prompt('The clip is an audio recording lasting 3.0 seconds. A bell rings from 0.2 to 1.4 s.');
    const second = prompt('The clip is an audio recording lasting 5.0 seconds. Speech from 0.5 to 4.5 s: "good morning everyone".');

    let cold;
    {
      await using llm = await load();
      cold = await llm.chat([{ role: 'user', content: first }], opts);
      // without `persist` nothing is saved
      await llm.chat([{ role: 'user', content: 'Name one colour.' }], { seed: 3, maxTokens: 4, conversation: 'other' });
    }
    expect(cold.usage!.evaluatedTokens).toBeGreaterThanOrEqual(cold.usage!.promptTokens);
    expect(states(dir)).toHaveLength(1);
    const file = join(dir, states(dir)[0]);
    expect(statSync(file).mode & 0o022).toBe(0);

    {
      await using llm = await load();
      const warm = await llm.chat([{ role: 'user', content: second }], opts);
      const u = warm.usage!;
      // the instructions (~280 tokens) came from the file; the new facts and the template's tail were evaluated
      expect(u.promptTokens).toBeGreaterThan(250);
      expect(u.evaluatedTokens!).toBeLessThan(60);
      expect(warm.text.toLowerCase()).toMatch(/good morning|speech|5\.0/);
    }
    expect(warnings).toEqual([]);

    // a corrupt state: reported, not used (everything evaluated), replaced by a good one
    writeFileSync(file, Buffer.alloc(4096, 7));
    {
      await using llm = await load();
      const r = await llm.chat([{ role: 'user', content: second }], opts);
      expect(r.usage!.evaluatedTokens).toBeGreaterThanOrEqual(r.usage!.promptTokens);
    }
    expect(warnings).toEqual([expect.stringMatching(/saved LLM state .*\.kv not used/)]);
    expect(statSync(file).size).toBeGreaterThan(1_000_000);

    // a state file another user could have written is not loaded
    chmodSync(file, 0o666);
    {
      await using llm = await load();
      const r = await llm.chat([{ role: 'user', content: second }], opts);
      expect(r.usage!.evaluatedTokens).toBeGreaterThanOrEqual(r.usage!.promptTokens);
    }
    expect(warnings[1]).toMatch(/not used: not a regular file of this user writable only by it/);
  }, 600_000);

  it('a call from the base gives the same text at the same seed whatever ran before it: cold, after other items and a follow-up, from the saved state, without one', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'llm-base-')), 'states');
    const bell = prompt('The clip is an audio recording lasting 3.0 seconds. A bell rings from 0.2 to 1.4 s.');
    const speech = prompt('The clip is an audio recording lasting 5.0 seconds. Speech from 0.5 to 4.5 s: "good morning everyone".');
    const o = { ...opts, maxTokens: 40 };
    const ask = (llm: LocalChatModel, content: string, options: ChatOptions = o): Promise<ChatResult> => llm.chat([{ role: 'user', content }], options);
    let cold: ChatResult;
    {
      await using llm = await LocalChatModel.load({ stateDir: dir, contextSize: 2048, threads: 2 });
      cold = await ask(llm, speech);
      await ask(llm, bell);
      // a follow-up without the base continues after the previous call (the Detective's revision)
      const more = await ask(llm, `${bell}\nSay it in one sentence.`, { ...o, base: undefined });
      expect(more.usage!.evaluatedTokens!).toBeLessThan(40);
      const again = await ask(llm, speech);
      expect(again.text).toBe(cold.text);
      expect(again.usage!.evaluatedTokens!).toBeLessThan(60);
    }
    expect(cold.text.toLowerCase()).toContain('good morning');
    expect(cold.usage!.evaluatedTokens!).toBeGreaterThanOrEqual(cold.usage!.promptTokens);
    {
      await using llm = await LocalChatModel.load({ stateDir: dir, contextSize: 2048, threads: 2 });
      await ask(llm, bell);
      const warm = await ask(llm, speech);
      expect(warm.text).toBe(cold.text);
      expect(warm.usage!.evaluatedTokens!).toBeLessThan(60);
    }
    {
      await using llm = await LocalChatModel.load({ contextSize: 2048, threads: 2 });
      expect((await ask(llm, speech)).text).toBe(cold.text);
    }
    await using llm = await LocalChatModel.load({ contextSize: 1024, threads: 1 });
    await expect(ask(llm, 'Something else.')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/must begin the last message/) });
  }, 600_000);

  it('omnicap prepare saves the synthesis instructions once; the next prepare finds them', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'llm-prepare-')), 'states');
    const a = await runCommand(prepare, ['--llm-state', dir, '--llm-threads', '2']);
    expect(a.code).toBe(0);
    const n = /: a prompt of (\d+) tokens, (\d+) evaluated/.exec(a.out);
    expect(n).not.toBeNull();
    expect(Number(n![2])).toBeGreaterThanOrEqual(Number(n![1]));
    expect(a.out).not.toMatch(/saved state held/);
    expect(states(dir)).toHaveLength(1);
    const b = await runCommand(prepare, ['--llm-state', dir, '--llm-threads', '2']);
    expect(b.out).toMatch(/: a prompt of \d+ tokens, [1-3] evaluated \(a saved state held the rest\)/);
    expect(states(dir)).toHaveLength(1);
    // the state belongs to the synthesis conversation of the current prompts
    expect(synthesisConversation(loadDetectivePrompts())).toMatch(/^detective:synthesis:[0-9a-f]{16}$/);
    await expect(runCommand(prepare, ['--llm-state', 'off'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    // a default directory other users can write: prepare says so instead of saving nowhere
    const home = mkdtempSync(join(tmpdir(), 'xdg-open-'));
    mkdirSync(join(home, 'omnicap', 'llm-state'), { recursive: true });
    chmodSync(join(home, 'omnicap', 'llm-state'), 0o777);
    const before = process.env.XDG_CACHE_HOME;
    process.env.XDG_CACHE_HOME = home;
    try {
      await expect(runCommand(prepare, [])).rejects.toMatchObject({ code: 'UNTRUSTED_FILE', message: expect.stringMatching(/--llm-state DIR/) });
    } finally {
      process.env.XDG_CACHE_HOME = before;
    }
  }, 600_000);
});
