/**
 * Evidence grounding inside judgeClip, with a scripted judge replaying the failure modes of a
 * held-out run: a letter backed by an unrelated quote, a quote that is not in the caption, a right
 * letter with a badly copied quote. Each refused blank is asked once more, afresh, letter first;
 * what still does not hold is E with the judge's letter and the reason recorded.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseClip } from '../../src/cloze/format';
import type { ClozeClip, JudgedBlank } from '../../src/cloze/types';
import { judgeClip, type JudgeClipOptions } from '../../src/cloze/judge';
import { loadJudgePrompt } from '../../src/cloze/prompt';
import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from '../../src/llm/types';

const clip: ClozeClip = parseClip({
  id: 'g1', domain: 'sound', category: 'pets',
  passage: 'A [BLANK_1] barks twice. The clip is sampled at [BLANK_2]. It is in [BLANK_3].',
  blanks: [
    { id: '1', options: ['dog', 'cat', 'bird', 'horse', 'not given'], answer: 'A', modality: 'audio' },
    { id: '2', options: ['8 kHz', '16 kHz', '44.1 kHz', '48 kHz', 'not given'], answer: 'D', modality: 'audio' },
    { id: '3', options: ['mono', 'stereo', '5.1 surround', '7.1 surround', 'not given'], answer: 'A', modality: 'audio' },
  ],
  predicted_caption: 'Music or tonal sound plays for 5.1 seconds, recorded at 48 kHz in mono.',
});

/** Replies by the blank's sentence: the first for the question, the second (if any) for the re-ask. */
class ScriptedJudge implements ChatModel {
  readonly id = 'scripted-judge';
  calls = 0;
  readonly seen: ChatMessage[][] = [];
  constructor(private readonly script: Record<string, string[]>) {}

  disposed = false;

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
  async chat(messages: ChatMessage[], _options: ChatOptions = {}): Promise<ChatResult> {
    this.calls++;
    this.seen.push(messages);
    const key = Object.keys(this.script).find((k) => messages[1].content.includes(k));
    if (key === undefined) throw new Error(`no script for ${messages[1].content}`);
    const reask = messages[1].content.includes('Give the letter of the option');
    const list = this.script[key];
    return { text: list[reask ? Math.min(1, list.length - 1) : 0], model: this.id };
  }
}

const reply = (evidence: string, answer: string): string => JSON.stringify({ evidence, answer });
const base = (judge: ChatModel, extra: Partial<JudgeClipOptions> = {}): JudgeClipOptions => ({ judge, template: loadJudgePrompt('v2'), promptVersion: 'v2', ...extra });
const blanks = async (judge: ChatModel, extra: Partial<JudgeClipOptions> = {}): Promise<JudgedBlank[]> => {
  const r = await judgeClip(clip, base(judge, extra));
  if (r.status !== 'ok') throw new Error(r.reason);
  return r.blanks;
};

describe('grounding in judgeClip', () => {
  test('unsupported letters are refused, asked once more letter first, and E when the quote still does not hold', async () => {
    const judge = new ScriptedJudge({
      'A ____ barks': [reply('music or tonal sound', 'A'), reply('none', 'E')],
      'sampled at ____': [reply('recorded at 44.1 kHz', 'C'), reply('recorded at 44.1 kHz', 'C')],
      'It is in ____': [reply('5.1 seconds', 'C'), reply('in mono', 'A')],
    });
    const [b1, b2, b3] = await blanks(judge);
    // "dog" quoting "music or tonal sound": refused, then the judge says E itself
    expect(b1).toMatchObject({ predicted: 'E', evidence: 'none', firstReply: { letter: 'A', evidence: 'music or tonal sound', reason: expect.stringContaining('nothing that sets "dog" apart') } });
    expect(b1).not.toHaveProperty('ungroundedChoice');
    // a quote that is not in the caption, twice: E, with the letter and the reason kept
    expect(b2).toMatchObject({ predicted: 'E', ungroundedChoice: 'C', groundingReason: 'the quote is not in the caption', evidence: 'recorded at 44.1 kHz' });
    // "5.1 surround" quoting a duration, then the right words: the re-ask recovers the right letter
    expect(b3).toMatchObject({ predicted: 'A', evidence: 'in mono', firstReply: { letter: 'C', evidence: '5.1 seconds', reason: expect.stringContaining('surround') } });
    expect(judge.calls).toBe(6);
    // the re-ask is a fresh question (no earlier reply to copy) that asks for the letter first
    const reask = judge.seen[1];
    expect(reask.map((m) => m.role)).toEqual(['system', 'user']);
    expect(reask[1].content).toMatch(/^SENTENCE:\nA ____ barks twice\.\n[\s\S]*Give the letter of the option the caption states/);
  });

  test('with --no-grounding-reask nothing is asked again; a supported quote needs no re-ask', async () => {
    const judge = new ScriptedJudge({
      'A ____ barks': [reply('music or tonal sound', 'A')],
      'sampled at ____': [reply('recorded at 48 kHz', 'D')],
      'It is in ____': [reply('48 kHz in mono', 'A')],
    });
    const [b1, b2, b3] = await blanks(judge, { groundingReask: false });
    expect(judge.calls).toBe(3);
    expect(b1).toMatchObject({ predicted: 'E', ungroundedChoice: 'A', groundingReason: expect.stringContaining('"dog"') });
    expect(b2).toMatchObject({ predicted: 'D', evidence: 'recorded at 48 kHz' });
    expect(b3).toMatchObject({ predicted: 'A' });
    expect(b2).not.toHaveProperty('groundingReason');
  });

  test('permuted options: the quote is checked against the options the judge saw, the letter mapped back', async () => {
    // with permute seed 3 the judge sees the options in another order; it answers with the shown letter of "48 kHz"
    const probe = new ScriptedJudge({ 'A ____ barks': [reply('none', 'E')], 'sampled at ____': [reply('none', 'E')], 'It is in ____': [reply('none', 'E')] });
    await blanks(probe, { variant: 'permuted', permuteSeed: 3 });
    const shown = /([A-D])\) 48 kHz/.exec(probe.seen[1][1].content)?.[1] as string;
    const wrongShown = /([A-D])\) 16 kHz/.exec(probe.seen[1][1].content)?.[1] as string;
    const judge = new ScriptedJudge({ 'A ____ barks': [reply('none', 'E')], 'sampled at ____': [reply('at 48 kHz', shown)], 'It is in ____': [reply('at 48 kHz', wrongShown)] });
    const [, b2, b3] = await blanks(judge, { variant: 'permuted', permuteSeed: 3, groundingReask: false });
    expect(b2).toMatchObject({ predicted: 'D', answer: 'D' });
    expect(b3.predicted).toBe('E');
  });

  test('the baseline is the raw prior: an empty caption, no grounding, the letters as given', async () => {
    const judge = new ScriptedJudge({ 'A ____ barks': [reply('dogs bark', 'A')], 'sampled at ____': [reply('none', 'B')], 'It is in ____': [reply('none', 'E')] });
    const r = await judgeClip(clip, base(judge, { variant: 'baseline' }));
    expect(r).toMatchObject({ status: 'ok', judge: { grounding: false } });
    expect(judge.seen[0][0].content).toContain('(empty caption)');
    expect(r.status === 'ok' ? r.blanks.map((b) => b.predicted) : []).toEqual(['A', 'B', 'E']);
    expect(judge.calls).toBe(3);
  });

  test('the cache keeps the replies; a hit re-applies grounding without a call', async () => {
    const cacheDir = mkdtempSync(path.join(tmpdir(), 'cloze-ground-'));
    const script = {
      'A ____ barks': [reply('music or tonal sound', 'A'), reply('none', 'E')],
      'sampled at ____': [reply('recorded at 48 kHz', 'D')],
      'It is in ____': [reply('5.1 seconds', 'C'), reply('in mono', 'A')],
    };
    const first = await blanks(new ScriptedJudge(script), { cacheDir });
    const again = new ScriptedJudge(script);
    const r = await judgeClip(clip, base(again, { cacheDir }));
    expect(again.calls).toBe(0);
    expect(r).toMatchObject({ status: 'ok', cached: true, calls: 0 });
    expect(r.status === 'ok' ? r.blanks : []).toEqual(first);
  });
});
