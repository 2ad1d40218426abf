import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { autoCaptionTokens, AUTO_CAPTION_TOKENS, createToolbox, FIXED_REPORT_QUESTION, loadDetectivePrompts, parseAction, renderPrompt, roundSchema, runDetective, signalObserver, type DetectiveClip } from '../../src/detective';

import { OmnicapError } from '../../src/errors';
import type { Observer, ObserveRequest } from '../../src/observers';
import { ScriptedChatModel } from './scripted-llm';
import { NOISE, SPEECH } from './media';

const clip: DetectiveClip = { id: 'speech-0880', path: SPEECH };

/** Records exactly what an observer is given, answers with the number of samples it saw. */
function recordingObserver(name: string, seen: ObserveRequest[]): Observer {
  return {
    name,
    modality: 'audio',
    answersQuestions: true,
    description: 'records its inputs',
    async observe(req) {
      seen.push(req);
      return { answer: `${req.media.samples?.length ?? 0} samples` };
    },
  };
}

const failing: Observer = {
  name: 'broken',
  modality: 'audio',
  description: 'always fails',
  async observe() {
    throw new OmnicapError('UPSTREAM_ERROR', 'endpoint down');
  },
};

describe('parseAction', () => {
  const tools = ['signal', 'asr'];
  it.each([
    ['{"tool":"asr","question":"what is said?"}', true],
    ['Sure! ```json\n{"tool": "signal", "question": "how loud?"}\n```', true],
    ['{"action":"finish"}', true],
    ['{"tool":"finish","question":""}', true],
    ['{"tool":"vision","question":"x"}', false],
    ['{"tool":"asr"}', false],
    ['{"tool":"asr","question":"  "}', false],
    ['not json at all', false],
    ['{"tool": "asr", "question": "unterminated', false],
    ['[1,2]', false],
  ])('%s -> ok=%s', (text, ok) => {
    expect(parseAction(text, tools).ok).toBe(ok);
  });
});

describe('runDetective', () => {
  it('gathers fixed reports up front, concurrently and once each, and spends its rounds on observers that answer questions', async () => {
    const seen: ObserveRequest[] = [];
    // two fixed reports that can only finish together: each waits until both have started
    let started = 0;
    let release: () => void = () => undefined;
    const both = new Promise<void>((r) => (release = r));
    const together = (name: string): Observer => ({
      name,
      modality: 'audio',
      description: 'a fixed report that needs the other one running at the same time',
      async observe(req) {
        expect(req.question).toBe(FIXED_REPORT_QUESTION);
        if (++started === 2) release();
        await both;
        return { answer: `${name} report` };
      },
    });
    const tools = createToolbox({ observers: [signalObserver(), together('left'), together('right'), recordingObserver('probe', seen)] });
    const llm = new ScriptedChatModel([
      '{"tool":"probe","question":"first question"}',
      '{"tool":"probe","question":"second question"}',
      '{"action":"finish"}',
    ]);
    const r = await runDetective(clip, llm, tools, { rounds: 10, seed: 7, observerConcurrency: 3 });
    expect(r.rounds.map((x) => [x.round, x.status, 'tool' in x ? x.tool : '', 'upfront' in x ? x.upfront : false])).toEqual([
      [1, 'ok', 'signal', true],
      [2, 'ok', 'left', true],
      [3, 'ok', 'right', true],
      [4, 'ok', 'probe', false],
      [5, 'ok', 'probe', false],
      [6, 'finish', '', false],
    ]);
    expect(r.toolCalls).toEqual({ signal: 1, left: 1, right: 1, probe: 2 });
    expect(seen.map((s) => s.question)).toEqual(['first question', 'second question']);
    for (const s of seen) {
      expect(Object.keys(s).sort()).toEqual(['media', 'question', 'signal']);
      expect(Object.keys(s.media)).toEqual(['samples']);
      expect(s.media.samples!.length).toBeGreaterThan(16000);
    }
    const first = r.rounds[0];
    expect(first.status === 'ok' && /LUFS/.test(first.answer)).toBe(true);
    // the decision rounds offer only the observer that answers questions, and see the fixed reports
    expect(llm.calls[0].options?.jsonSchema).toEqual(roundSchema(['probe']));
    expect(llm.calls[0].messages[llm.calls[0].messages.length - 1].content).toContain('Answer from right: right report');
    expect(llm.calls[0].messages.filter((m) => m.role === 'assistant').map((m) => JSON.parse(m.content).tool)).toEqual(['signal', 'left', 'right']);
    // the synthesis call sees the established facts, not the agent's chat
    const synth = llm.calls[llm.calls.length - 1];
    expect(synth.messages).toHaveLength(1);
    expect(synth.messages[0].content).toMatch(/FACTS:[\s\S]*LUFS[\s\S]*samples/);
    expect(r.caption).toContain('LUFS');
    expect(r).toMatchObject({ status: 'ok', synthesis: { mode: 'llm', source: 'llm', check: { ok: true } } });
    // one conversation: each round's call extends the previous one (same key, messages appended)
    const keys = new Set(llm.calls.slice(0, 3).map((c) => c.options?.conversation));
    expect(keys.size).toBe(1);
    expect(llm.calls[1].messages.slice(0, llm.calls[0].messages.length)).toEqual(llm.calls[0].messages);
    expect(r.seed).toBe(7);
    expect(llm.calls.every((c) => c.options?.seed === 7)).toBe(true);
    expect(r.prompts[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.usage.llmCalls).toBe(4);
    await tools.dispose();
  });

  it('with only fixed-report observers a clip needs no decision round: one LLM call, the synthesis', async () => {
    const tools = createToolbox({ observers: [signalObserver(), recordingObserver('probe', []), failing].map((o) => ({ ...o, answersQuestions: undefined })) });
    const llm = new ScriptedChatModel([]);
    const r = await runDetective(clip, llm, tools, { rounds: 10 });
    expect(r.rounds.map((x) => [x.status, 'tool' in x ? x.tool : ''])).toEqual([['ok', 'signal'], ['ok', 'probe'], ['observer_error', 'broken']]);
    expect(r.rounds.every((x) => 'upfront' in x && x.upfront === true)).toBe(true);
    expect(r.usage.llmCalls).toBe(1);
    expect(llm.calls).toHaveLength(1);
    expect(llm.calls[0].options?.json).toBe(false);
    // the synthesis starts from the instructions (its base) and may write as much as its facts need
    const prompt = llm.calls[0].messages[0].content;
    expect(prompt.startsWith(llm.calls[0].options!.base!)).toBe(true);
    expect(llm.calls[0].options?.maxTokens).toBe(autoCaptionTokens(prompt.slice(prompt.indexOf('FACTS:') + 6).split('\n\n')[0].trim()));
    // every observation is in the recorded conversation, the failure included
    const text = r.messages.map((m) => m.content).join('\n');
    expect(text).toContain('Answer from probe:');
    expect(text).toContain('Observer broken failed (UPSTREAM_ERROR): endpoint down');
    await tools.dispose();
  });

  it('the caption limit follows the fact sheet (a retelling needs about its length); a limit given is kept', async () => {
    expect(autoCaptionTokens('a'.repeat(350))).toBe(AUTO_CAPTION_TOKENS.min);
    expect(autoCaptionTokens('a'.repeat(2100))).toBe(814); // a 36 s screencast's sheet: 600 tokens
    expect(autoCaptionTokens('a'.repeat(100_000))).toBe(AUTO_CAPTION_TOKENS.max);
    const tools = createToolbox({ observers: [signalObserver()] });
    const llm = new ScriptedChatModel([]);
    await runDetective(clip, llm, tools, { rounds: 0, maxCaptionTokens: 100 });
    expect(llm.calls[0].options?.maxTokens).toBe(100);
    await tools.dispose();
  });

  it('re-asks on invalid JSON, then records a failed round after the bound', async () => {
    const tools = createToolbox({ observers: [signalObserver(), recordingObserver('probe', [])] });
    const llm = new ScriptedChatModel(['nonsense', '{"tool":"probe","question":"loudness?"}', 'bad', 'bad again', '{"tool":"nope","question":"x"}', '{"action":"finish"}']);
    const r = await runDetective(clip, llm, tools, { rounds: 3, maxReasks: 2 });
    expect(r.rounds.map((x) => x.status)).toEqual(['ok', 'ok', 'invalid_output', 'finish']);
    const failed = r.rounds[2];
    expect(failed.status === 'invalid_output' && failed.error.code).toBe('LLM_BAD_OUTPUT');
    // the re-ask message names the error and the valid tools
    expect(llm.calls[1].messages[llm.calls[1].messages.length - 1].content).toContain('probe');
  });

  it('an observer failure becomes an error observation and the clip still gets a caption', async () => {
    const tools = createToolbox({ observers: [failing, signalObserver(), recordingObserver('probe', [])] });
    const llm = new ScriptedChatModel(['{"tool":"probe","question":"anything?"}', '{"action":"finish"}']);
    const r = await runDetective({ id: 'noise', path: NOISE }, llm, tools, { rounds: 2 });
    expect(r.rounds[0]).toMatchObject({ status: 'observer_error', tool: 'broken', upfront: true, error: { code: 'UPSTREAM_ERROR', message: 'endpoint down' } });
    expect(r.rounds[1]).toMatchObject({ status: 'ok', tool: 'signal', upfront: true });
    expect(llm.calls[0].messages.map((m) => m.content).join('\n')).toContain('Observer broken failed (UPSTREAM_ERROR)');
    expect(r.caption.length).toBeGreaterThan(0);
  });

  it('stops at the round limit and honours the abort signal', async () => {
    const tools = createToolbox({ observers: [signalObserver()] });
    const forever = Array.from({ length: 20 }, (_, i) => `{"tool":"signal","question":"q${i}"}`);
    const probe = createToolbox({ observers: [recordingObserver('probe', [])] });
    const forProbe = Array.from({ length: 20 }, (_, i) => `{"tool":"probe","question":"q${i}"}`);
    const r = await runDetective(clip, new ScriptedChatModel(forProbe), probe, { rounds: 2 });
    expect(r.rounds.map((x) => x.status)).toEqual(['ok', 'ok']);
    // a fixed-report observer is asked once, up front; nothing is left to ask
    const once = await runDetective(clip, new ScriptedChatModel(forever), tools, { rounds: 5 });
    expect(once.rounds).toMatchObject([{ status: 'ok', tool: 'signal', upfront: true }]);
    expect(once.usage.llmCalls).toBe(1);
    const ac = new AbortController();
    ac.abort();
    await expect(runDetective(clip, new ScriptedChatModel(forever), tools, { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(runDetective(clip, new ScriptedChatModel(forever), tools, { rounds: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('an abort while the fixed reports run stops the clip with ABORTED', async () => {
    const ac = new AbortController();
    const hanging: Observer = {
      name: 'hang',
      modality: 'audio',
      description: 'waits for the abort',
      observe: (req) =>
        new Promise((_, reject) => {
          req.signal?.addEventListener('abort', () => reject(new OmnicapError('ABORTED', 'aborted')), { once: true });
          ac.abort();
        }),
    };
    const tools = createToolbox({ observers: [hanging, signalObserver()] });
    await expect(runDetective(clip, new ScriptedChatModel([]), tools, { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await tools.dispose();
  });

  it('unknown observer through the toolbox is OBSERVER_NOT_FOUND', async () => {
    const tools = createToolbox({ observers: [signalObserver()], cacheDir: mkdtempSync(join(tmpdir(), 'det-cache-')) });
    await expect(tools.observe(clip, 'nope', 'q')).rejects.toMatchObject({ code: 'OBSERVER_NOT_FOUND' });
  });
});

describe('prompts', () => {
  it('renders the versioned prompt files (snapshot)', () => {
    const p = loadDetectivePrompts('v2');
    const observers = '- signal (audio, fixed report): measures\n- ocr (visual, fixed report): reads text';
    expect(renderPrompt(p.agent, { clip: 'The clip is an audio recording lasting 3.0 seconds.', observers, rounds: '10' })).toMatchSnapshot('agent.v2');
    expect(renderPrompt(p.round, { observation: 'Answer from signal: -23 LUFS', round: '2', rounds: '10', unasked: 'ocr' })).toMatchSnapshot('round.v2');
    expect(renderPrompt(p.reask, { error: 'no JSON object found', names: 'signal, ocr' })).toMatchSnapshot('reask.v2');
    expect(renderPrompt(p.synthesis, { facts: 'Signal measurements: -23 LUFS.' })).toMatchSnapshot('synthesis.v2');
    // neutral placeholders only: no literal example reply a small model could copy
    for (const t of [p.agent, p.reask]) expect(t.text).not.toMatch(/"tool":\s*"(signal|asr|ocr|vad)"/);
    expect(p.revise).toBeUndefined(); // v2 had no revision step
  });

  it('v3 adds the revision prompt; its synthesis asks for screen text and forbids guessing the speaker (snapshot)', () => {
    const p = loadDetectivePrompts('v3');
    expect(p.synthesis.version).toBe('v3');
    expect(renderPrompt(p.synthesis, { facts: 'The sound is quiet (integrated loudness -30.0 LUFS).', screen_facts: '', screen_seen: '', screen_rule: '' })).toMatchSnapshot('synthesis.v3');
    expect(p.revise).toBeDefined();
    const revise = renderPrompt(p.revise!, { facts: 'Text shown on screen: "OMNICAP" at 1.0 s.', screen_facts: ' text visible on screen,', screen_seen: ' and seen', screen_rule: ' Quote all text shown on screen.', problems: '- on-screen text missing' });
    expect(revise).toMatchSnapshot('revise.v3');
    expect(revise).toContain('- on-screen text missing');
    expect(revise).toContain('Quote all text shown on screen.');
    expect(p.synthesis.text).toContain('{{screen_rule}}');
    expect(p.synthesis.text).toMatch(/Never guess who speaks/);
  });
  it('v4: instructions first, the facts last, and the revision shares everything before its problems', () => {
    const p = loadDetectivePrompts('v4');
    expect(p.synthesis.version).toBe('v4');
    const facts = 'The sound is quiet (integrated loudness -30.0 LUFS).';
    const vars = { facts, screen_facts: '', screen_seen: '', screen_rule: '', picture_rule: ' The clip has no picture: describe only what is heard.' };
    const synthesis = renderPrompt(p.synthesis, vars);
    expect(synthesis).toMatchSnapshot('synthesis.v4');
    const revise = renderPrompt(p.revise!, { ...vars, problems: '- a list, not prose' });
    // the revision's prompt begins with the synthesis prompt up to the end of the facts: a kept KV prefix
    const shared = synthesis.slice(0, synthesis.indexOf(facts) + facts.length);
    expect(revise.startsWith(shared)).toBe(true);
    expect(revise).toContain('- a list, not prose');
    // nothing clip-specific before the facts except the picture rule, which ends the instructions
    expect(p.synthesis.text.indexOf('{{facts}}')).toBeGreaterThan(p.synthesis.text.indexOf('{{picture_rule}}'));
    expect(p.synthesis.text.trimEnd().endsWith('Reply with the caption only.')).toBe(true);
    expect(p.synthesis.text).toMatch(/Never guess who speaks/);
  });

  it('missing versions and template variables are typed errors', () => {
    expect(() => loadDetectivePrompts('v99')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => loadDetectivePrompts('latest')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => renderPrompt(loadDetectivePrompts().agent, { rounds: '3' })).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
