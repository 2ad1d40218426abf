import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToolbox, loadDetectivePrompts, parseAction, renderPrompt, runDetective, signalObserver, type DetectiveClip } from '../../src/detective';
import { OmnicapError } from '../../src/errors';
import type { Observer, ObserveRequest } from '../../src/server/observers';
import { ScriptedChatModel } from './scripted-llm';
import { NOISE, SPEECH } from './media';

const clip: DetectiveClip = { id: 'speech-0880', path: SPEECH };

/** Records exactly what an observer is given, answers with the number of samples it saw. */
function recordingObserver(name: string, seen: ObserveRequest[]): Observer {
  return {
    name,
    modality: 'audio',
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
    // the synthesis call sees the observations, not the agent's chat
    const synth = llm.calls[llm.calls.length - 1];
    expect(synth.messages).toHaveLength(1);
    expect(synth.messages[0].content).toContain('first question');
    expect(r.caption).toContain('LUFS');
    expect(r.seed).toBe(7);
    expect(llm.calls.every((c) => c.options?.seed === 7)).toBe(true);
    expect(r.prompts.map((p) => p.version)).toEqual(['v1', 'v1', 'v1']);
    expect(r.prompts[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(r.usage.llmCalls).toBe(5);
    await tools.dispose();
  });

  it('re-asks on invalid JSON, then records a failed round after the bound', async () => {
    const tools = createToolbox({ observers: [signalObserver()] });
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
    const r = await runDetective(clip, new ScriptedChatModel(forever), tools, { rounds: 2 });
    expect(r.rounds).toHaveLength(2);
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
    const p = loadDetectivePrompts('v1');
    const observers = '- signal (audio): measures\n- ocr (visual): reads text';
    expect(renderPrompt(p.agent, { observers, rounds: '10' })).toMatchSnapshot('agent.v1');
    expect(renderPrompt(p.synthesis, { observations: '[1] signal | Q: loud?\n    A: -23 LUFS' })).toMatchSnapshot('synthesis.v1');
    expect(renderPrompt(p.reask, { error: 'no JSON object found', names: 'signal, ocr' })).toMatchSnapshot('reask.v1');
    expect({ agent: p.agent.sha256, synthesis: p.synthesis.sha256, reask: p.reask.sha256 }).toMatchSnapshot('hashes');
  });
  it('missing versions and template variables are typed errors', () => {
    expect(() => loadDetectivePrompts('v99')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => loadDetectivePrompts('latest')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => renderPrompt(loadDetectivePrompts().agent, { rounds: '3' })).toThrow(expect.objectContaining({ code: 'INTERNAL' }));
  });
});
