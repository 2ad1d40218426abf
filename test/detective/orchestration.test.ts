/**
 * The agent loop's orchestration with a scripted LLM on a real clip: which observers are offered,
 * repeated questions refused, answers capped to the context, checked synthesis with an honest
 * `degraded` status and the template fallback, and rounds kept when the LLM fails late.
 */
import {
  applicableObservers,
  capText,
  checkCaption,
  createToolbox,
  echoShare,
  loadDetectivePrompts,
  repetitionShare,
  runDetective,
  signalObserver,
  templateCaption,
  wordRecall,
  type DetectiveClip,
  type DetectiveRound,
} from '../../src/detective';
import { OmnicapError } from '../../src/errors';
import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from '../../src/llm/types';
import type { Observer } from '../../src/observers';
import { ScriptedChatModel } from './scripted-llm';
import { SPEECH } from './media';

const clip: DetectiveClip = { id: 'speech-0880', path: SPEECH };
const TRANSCRIPT = 'he was not an ill disposed young man';

/** An ASR stand-in with a fixed transcript (the real Whisper observer is tested on its own). */
const fakeAsr: Observer = {
  name: 'asr',
  modality: 'audio',
  description: 'speech recognition',
  async observe() {
    return { answer: `Transcript: "${TRANSCRIPT}"`, data: { transcript: TRANSCRIPT } };
  },
};
const chatty: Observer = {
  name: 'chatty',
  modality: 'audio',
  answersQuestions: true,
  description: 'answers at great length',
  async observe({ question }) {
    return { answer: `${question} ${'word '.repeat(5000)}`.trim() };
  },
};
const visual: Observer = { name: 'ocr', modality: 'visual', description: 'reads text', async observe() { return { answer: 'No on-screen text was found.' }; } };

describe('observers offered', () => {
  const all = [fakeAsr, visual, chatty].map(({ name, modality, description }) => ({ name, modality, description }));
  it('no visual observers without video, no audio observers without audio', () => {
    expect(applicableObservers(all, { hasAudio: true, hasVideo: false }).map((o) => o.name)).toEqual(['asr', 'chatty']);
    expect(applicableObservers(all, { hasAudio: false, hasVideo: true }).map((o) => o.name)).toEqual(['ocr']);
    expect(applicableObservers(all).map((o) => o.name)).toEqual(['asr', 'ocr', 'chatty']);
  });

  it('fixed reports that fit the clip are gathered without a round; the grammar of each round lists the observers that answer questions', async () => {
    const asking: Observer = { ...fakeAsr, name: 'asking', answersQuestions: true };
    const tools = createToolbox({ observers: [signalObserver(), fakeAsr, visual, asking] });
    const llm = new ScriptedChatModel(['{"tool":"asking","question":"what is said?"}', '{"tool":"finish","question":""}']);
    const r = await runDetective(clip, llm, tools, { rounds: 5, facts: { hasAudio: true, hasVideo: false, durationSeconds: 2.4 } });
    expect(r.offered).toEqual(['signal', 'asr', 'asking']);
    const enums = llm.calls.filter((c) => c.options?.json === true).map((c) => (c.options?.jsonSchema as { properties: { tool: { enum: string[] } } }).properties.tool.enum);
    expect(enums).toEqual([['asking', 'finish'], ['asking', 'finish']]);
    expect(llm.calls[0].messages[0].content).toContain('The clip is an audio recording lasting 2.4 seconds.');
    expect(llm.calls[0].messages[0].content).not.toContain('- ocr');
    expect(llm.calls[0].messages.at(-1)?.content).toMatch(/Observers not asked yet: asking\./);
    expect(r.rounds.map((x) => [x.status, 'tool' in x ? x.tool : '', 'upfront' in x])).toEqual([['ok', 'signal', true], ['ok', 'asr', true], ['ok', 'asking', false], ['finish', '', false]]);
    expect(r.usage.llmCalls).toBe(3);
    expect(r.caption).toContain(TRANSCRIPT);
  });
});

describe('repeats and context budget', () => {
  it('a repeated identical question is refused and re-asked', async () => {
    const tools = createToolbox({ observers: [chatty] });
    const llm = new ScriptedChatModel(['{"tool":"chatty","question":"What is heard?"}', '{"tool":"chatty","question":"what is heard"}', '{"tool":"chatty","question":"Who speaks?"}', '{"tool":"finish","question":""}']);
    const r = await runDetective(clip, llm, tools, { rounds: 3, observationTokens: 100 });
    expect(r.rounds.filter((x) => x.status === 'ok').map((x) => (x as { question: string }).question)).toEqual(['What is heard?', 'Who speaks?']);
    expect(llm.calls[2].messages.at(-1)?.content).toMatch(/already asked chatty that question/);
  });

  it('answers are capped in the conversation (with a marker) but kept whole in the trajectory', async () => {
    const tools = createToolbox({ observers: [chatty] });
    const llm = new ScriptedChatModel(['{"tool":"chatty","question":"Describe it."}', '{"tool":"finish","question":""}']);
    const r = await runDetective(clip, llm, tools, { rounds: 2, observationTokens: 50 });
    const full = (r.rounds[0] as { answer: string }).answer;
    expect(full.length).toBeGreaterThan(20000);
    const shown = llm.calls[1].messages.at(-1)!.content;
    expect(shown.length).toBeLessThan(400);
    expect(shown).toMatch(/\[\.\.\. truncated: \d+ more characters\]/);
    expect(capText('short', 50)).toBe('short');
  });
});

describe('synthesis that cannot fail silently', () => {
  const script = ['{"tool":"signal","question":"how loud?"}', '{"tool":"asr","question":"what is said?"}'];
  const tools = (): ReturnType<typeof createToolbox> => createToolbox({ observers: [signalObserver(), fakeAsr] });

  it('an echo of the prompt is degraded, with the reason, and the template caption is used', async () => {
    const echo = (m: ChatMessage[]): string => m[0].content; // the synthesis prompt copied back
    const r = await runDetective(clip, new ScriptedChatModel(script, echo), tools(), { rounds: 3 });
    expect(r.status).toBe('degraded');
    expect(r.degradedReasons?.join(' ')).toMatch(/prompt echo/);
    expect(r.synthesis).toMatchObject({ mode: 'llm', source: 'template' });
    expect(r.synthesis.rejectedCaption).toContain('You write detailed, faithful captions');
    expect(r.caption).not.toContain('You write detailed');
    expect(r.caption).toContain(`"${TRANSCRIPT}"`);
    expect(r.caption).toMatch(/LUFS/);
  });

  it('a caption without the observations or without the transcript is degraded', async () => {
    const invented = (): string => 'A jazz band plays saxophone solos in a crowded nightclub while people dance and glasses clink.';
    const r = await runDetective(clip, new ScriptedChatModel(script, invented), tools(), { rounds: 3 });
    expect(r.status).toBe('degraded');
    expect(r.degradedReasons?.join(' ')).toMatch(/no observation content/);
    expect(r.degradedReasons?.join(' ')).toMatch(/transcript missing/);
    const looping = (): string => 'The speaker says hello. '.repeat(30);
    const r2 = await runDetective(clip, new ScriptedChatModel(script, looping), tools(), { rounds: 3 });
    expect(r2.degradedReasons?.join(' ')).toMatch(/degenerate repetition/);
  });

  it('a faithful caption passes every check: status ok', async () => {
    const good = (): string => `A single voice speaks in a quiet audio recording, calm and clear, saying "${TRANSCRIPT}".`;
    const r = await runDetective(clip, new ScriptedChatModel(script, good), tools(), { rounds: 3 });
    expect(r).toMatchObject({ status: 'ok', synthesis: { source: 'llm', check: { ok: true, metrics: { transcriptRecall: 1 } } } });
    expect(r.degradedReasons).toBeUndefined();
  });

  it('--synthesis template makes no caption call and is ok', async () => {
    const llm = new ScriptedChatModel(script);
    const r = await runDetective(clip, llm, tools(), { rounds: 3, synthesis: 'template' });
    expect(r).toMatchObject({ status: 'ok', synthesis: { mode: 'template', source: 'template' } });
    expect(llm.calls.every((c) => c.options?.json === true)).toBe(true);
    expect(r.caption).toContain(TRANSCRIPT);
  });

  it('an LLM that fails after two rounds: degraded, the finished rounds kept, template caption', async () => {
    let n = 0;
    const dying: ChatModel = {
      id: 'dying',
      async chat(_m: ChatMessage[], _o?: ChatOptions): Promise<ChatResult> {
        n++;
        if (n === 1) return { text: script[0], model: 'dying' };
        if (n === 2) return { text: script[1], model: 'dying' };
        throw new OmnicapError('UPSTREAM_ERROR', 'LLM endpoint returned HTTP 502');
      },
      dispose: async () => undefined,
      [Symbol.asyncDispose]: async () => undefined,
    };
    const seen: DetectiveRound[] = [];
    const t = createToolbox({ observers: [signalObserver(), fakeAsr, chatty] });
    const r = await runDetective(clip, dying, t, { rounds: 5, onRound: (x) => void seen.push(x) });
    expect(r.status).toBe('degraded');
    expect(r.degradedReasons?.[0]).toMatch(/detective LLM failed during the rounds \(UPSTREAM_ERROR/);
    expect(r.rounds.map((x) => x.status)).toEqual(['ok', 'ok']);
    expect(seen).toEqual(r.rounds);
    expect(r.caption).toContain(TRANSCRIPT);
  });
});

describe('caption checks', () => {
  const prompts = loadDetectivePrompts();
  it('measures echo, repetition, grounding and transcript recall', () => {
    expect(echoShare(prompts.synthesis.text, prompts.synthesis.text)).toBe(1);
    expect(echoShare('A man reads a sentence about a young man in a quiet room.', prompts.synthesis.text)).toBe(0);
    expect(repetitionShare('one two three four five six seven eight nine ten eleven twelve')).toBe(0);
    expect(repetitionShare('the dog barks loudly '.repeat(10))).toBeGreaterThan(0.6);
    expect(wordRecall('he was not an ill disposed young man', 'He was "not an ill-disposed young man".')).toBe(1);
    expect(wordRecall('he was not an ill disposed young man', 'a young man')).toBeCloseTo(2 / 8);
    const c = checkCaption({ caption: 'A single voice speaks in a quiet room at about -30 LUFS, calm and clear, saying "he was not an ill disposed young man".', promptText: prompts.synthesis.text, observationText: 'Transcript: he was not an ill disposed young man. Loudness -30 LUFS.', transcript: TRANSCRIPT });
    expect(c).toMatchObject({ ok: true, reasons: [] });
    // the transcript alone is no caption; a caption that repeats its own sentences is degenerate
    const bare = checkCaption({ caption: 'The words: "He was not an ill disposed young man."', promptText: prompts.synthesis.text, observationText: 'Transcript: he was not an ill disposed young man.', transcript: TRANSCRIPT });
    expect(bare.reasons.join(' ')).toMatch(/no description/);
    const twice = 'The narrator reads a sentence from a novel in a quiet room. '.repeat(2) + 'He says "he was not an ill disposed young man" at -30 LUFS.';
    const seen = 'A single voice speaks in a quiet room at about -30 LUFS; the text on screen is "he was not an ill disposed young man".';
    expect(checkCaption({ caption: seen, promptText: '', observationText: 'Transcript: he was not an ill disposed young man. Loudness -30 LUFS.', transcript: TRANSCRIPT, hasVideo: false }).reasons).toContain('describes a picture, but the clip has no video stream ("on screen")');
    expect(checkCaption({ caption: seen, promptText: '', observationText: 'Transcript: he was not an ill disposed young man. Loudness -30 LUFS.', transcript: TRANSCRIPT, hasVideo: true }).ok).toBe(true);
    expect(checkCaption({ caption: twice, promptText: '', observationText: 'narrator reads sentence novel quiet room he was not an ill disposed young man -30 LUFS', transcript: TRANSCRIPT }).reasons.join(' ')).toMatch(/1 sentence repeated/);
  });
  it('the template lists each observer once, transcript in full, in a fixed order', () => {
    const rounds: DetectiveRound[] = [
      { round: 1, status: 'ok', tool: 'signal', question: 'q', answer: 'integrated loudness -30 LUFS', cached: false, ms: 1 },
      { round: 2, status: 'ok', tool: 'asr', question: 'q', answer: 'Transcript: ...', data: { transcript: TRANSCRIPT }, cached: false, ms: 1 },
      { round: 3, status: 'observer_error', tool: 'vad', question: 'q', error: { code: 'X', message: 'm' }, ms: 1 },
    ];
    const t = templateCaption(rounds, { hasAudio: true, hasVideo: false, durationSeconds: 3 });
    expect(t).toBe(`The clip is an audio recording lasting 3.0 seconds. A voice says: "${TRANSCRIPT}" Signal measurements: integrated loudness -30 LUFS.`);
  });
});
