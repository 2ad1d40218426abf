import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToolbox, loadDetectivePrompts, parseAction, renderPrompt, runDetective, signalObserver, type DetectiveClip } from '../../src/detective';
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
  it('runs rounds, records the trajectory, and each observer sees only the media and its one question', async () => {
    const seen: ObserveRequest[] = [];
    const tools = createToolbox({ observers: [signalObserver(), recordingObserver('probe', seen)] });
    const llm = new ScriptedChatModel([
      '{"tool":"signal","question":"How loud is it?"}',
      '{"tool":"probe","question":"first question"}',
      '{"tool":"probe","question":"second question"}',
      '{"action":"finish"}',
    ]);
    const r = await runDetective(clip, llm, tools, { rounds: 10, seed: 7 });
    expect(r.rounds.map((x) => x.status)).toEqual(['ok', 'ok', 'ok', 'finish']);
    expect(r.toolCalls).toEqual({ signal: 1, probe: 2 });
    expect(seen.map((s) => s.question)).toEqual(['first question', 'second question']);
    for (const s of seen) {
      expect(Object.keys(s).sort()).toEqual(['media', 'question', 'signal']);
      expect(Object.keys(s.media)).toEqual(['samples']);
      expect(s.media.samples!.length).toBeGreaterThan(16000);
    }
    const first = r.rounds[0];
    expect(first.status === 'ok' && /LUFS/.test(first.answer)).toBe(true);
    // the synthesis call sees the established facts, not the agent's chat
    const synth = llm.calls[llm.calls.length - 1];
    expect(synth.messages).toHaveLength(1);
    expect(synth.messages[0].content).toMatch(/FACTS:[\s\S]*LUFS[\s\S]*samples/);
    expect(r.caption).toContain('LUFS');
    expect(r).toMatchObject({ status: 'ok', synthesis: { mode: 'llm', source: 'llm', check: { ok: true } } });
    // one conversation: each round's call extends the previous one (same key, messages appended)
    const keys = new Set(llm.calls.slice(0, 4).map((c) => c.options?.conversation));
    expect(keys.size).toBe(1);
    expect(llm.calls[2].messages.slice(0, llm.calls[1].messages.length)).toEqual(llm.calls[1].messages);
    expect(r.seed).toBe(7);
    expect(llm.calls.every((c) => c.options?.seed === 7)).toBe(true);
    expect(r.prompts.map((p) => `${p.name}.${p.version}`)).toEqual(['agent.v3', 'round.v3', 'reask.v3', 'synthesis.v3', 'revise.v3']);
    expect(r.prompts[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.usage.llmCalls).toBe(5);
    await tools.dispose();
  });

  it('re-asks on invalid JSON, then records a failed round after the bound', async () => {
    const tools = createToolbox({ observers: [signalObserver(), recordingObserver('probe', [])] });
    const llm = new ScriptedChatModel(['nonsense', '{"tool":"signal","question":"loudness?"}', 'bad', 'bad again', '{"tool":"nope","question":"x"}', '{"action":"finish"}']);
    const r = await runDetective(clip, llm, tools, { rounds: 3, maxReasks: 2 });
    expect(r.rounds.map((x) => x.status)).toEqual(['ok', 'invalid_output', 'finish']);
    const failed = r.rounds[1];
    expect(failed.status === 'invalid_output' && failed.error.code).toBe('LLM_BAD_OUTPUT');
    // the re-ask message names the error and the valid tools
    expect(llm.calls[1].messages[llm.calls[1].messages.length - 1].content).toContain('signal');
  });

  it('an observer failure becomes an error observation and the clip still gets a caption', async () => {
    const tools = createToolbox({ observers: [signalObserver(), failing] });
    const llm = new ScriptedChatModel(['{"tool":"broken","question":"anything?"}', '{"tool":"signal","question":"loudness?"}']);
    const r = await runDetective({ id: 'noise', path: NOISE }, llm, tools, { rounds: 2 });
    expect(r.rounds[0]).toMatchObject({ status: 'observer_error', tool: 'broken', error: { code: 'UPSTREAM_ERROR', message: 'endpoint down' } });
    expect(r.rounds[1].status).toBe('ok');
    expect(llm.calls[1].messages[llm.calls[1].messages.length - 1].content).toContain('Observer broken failed (UPSTREAM_ERROR)');
    expect(r.caption.length).toBeGreaterThan(0);
  });

  it('stops at the round limit and honours the abort signal between rounds', async () => {
    const tools = createToolbox({ observers: [signalObserver()] });
    const forever = Array.from({ length: 20 }, (_, i) => `{"tool":"signal","question":"q${i}"}`);
    const probe = createToolbox({ observers: [recordingObserver('probe', [])] });
    const forProbe = Array.from({ length: 20 }, (_, i) => `{"tool":"probe","question":"q${i}"}`);
    const r = await runDetective(clip, new ScriptedChatModel(forProbe), probe, { rounds: 2 });
    expect(r.rounds.map((x) => x.status)).toEqual(['ok', 'ok']);
    // a fixed-report observer is asked once; then nothing is left to ask and the detective finishes
    const once = await runDetective(clip, new ScriptedChatModel(forever), tools, { rounds: 5 });
    expect(once.rounds).toMatchObject([{ status: 'ok', tool: 'signal' }, { status: 'finish', reason: expect.stringMatching(/every observer/) }]);
    const ac = new AbortController();
    ac.abort();
    await expect(runDetective(clip, new ScriptedChatModel(forever), tools, { signal: ac.signal })).rejects.toMatchObject({ code: 'ABORTED' });
    await expect(runDetective(clip, new ScriptedChatModel(forever), tools, { rounds: -1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
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

  it('v3 (the default) adds the revision prompt; its synthesis asks for screen text and forbids guessing the speaker (snapshot)', () => {
    const p = loadDetectivePrompts();
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
  it('missing versions and template variables are typed errors', () => {
    expect(() => loadDetectivePrompts('v99')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => loadDetectivePrompts('latest')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => renderPrompt(loadDetectivePrompts().agent, { rounds: '3' })).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
