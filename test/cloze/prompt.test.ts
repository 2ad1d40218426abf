import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseClip } from '../../src/cloze/format';
import { LETTER_FIRST_SCHEMA, LETTER_SCHEMA, blankSentence, loadJudgePrompt, replySchema, parseJudgeAnswers, parseLetter, permuteBlank, renderBlankQuestion, renderJudgeSystem } from '../../src/cloze/prompt';
import { fakeJudgeReply } from './fake-judge';

const clip = parseClip(JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'cloze', 'bench.jsonl'), 'utf8').split('\n')[0]));

describe('judge prompt', () => {
  test('rendered v2 prompts: the caption once in the system part, one blank per question, no answer pattern', () => {
    const t = loadJudgePrompt('v2');
    const system = renderJudgeSystem(t, clip.caption ?? '');
    expect(system).toContain(clip.caption);
    const q = renderBlankQuestion(t.blank, clip.passage, clip.blanks[1]);
    expect(q).toContain('A [...] bounces on the court while a ____ blows and the crowd [...].');
    for (const l of ['A', 'B', 'C', 'D', 'E']) expect(q).toContain(`${l}) ${clip.blanks[1].options[l as 'A']}`);
    // no example answer letter a small model could copy: only a placeholder
    expect(`${system}\n${q}`).not.toMatch(/"answer":\s*"[A-E]"/);
    expect({ system, q }).toMatchSnapshot();
  });
  test('the sentence of a blank, with other blanks hidden', () => {
    const p = 'First one has [BLANK_1]. Then a [BLANK_2] and a [BLANK_3] appear! Last.';
    expect(blankSentence(p, '1')).toBe('First one has ____.');
    expect(blankSentence(p, '3')).toBe('Then a [...] and a ____ appear!');
    expect(blankSentence(p, '9')).toBe(p);
  });
  test('one-letter replies with and without evidence', () => {
    expect(parseLetter('{"evidence": "a whistle blows", "answer": "B"}')).toEqual({ ok: true, letter: 'B', evidence: 'a whistle blows' });
    expect(parseLetter('C')).toEqual({ ok: true, letter: 'C' });
    expect(parseLetter('A: female')).toEqual({ ok: true, letter: 'A' });
    expect(parseLetter('(d)')).toEqual({ ok: true, letter: 'D' });
    expect(parseLetter('Because it is')).toMatchObject({ ok: false });
    expect(parseLetter('{"answer": "F"}')).toMatchObject({ ok: false });
  });
  test('the reply schema follows the order a template shows: the question the quote first, the re-ask the letter first', () => {
    const t = loadJudgePrompt('v2');
    expect(replySchema(t.blank)).toBe(LETTER_SCHEMA);
    expect(Object.keys(LETTER_SCHEMA.properties)).toEqual(['evidence', 'answer']);
    expect(replySchema(t.reask)).toBe(LETTER_FIRST_SCHEMA);
    expect(Object.keys(LETTER_FIRST_SCHEMA.properties)).toEqual(['answer', 'evidence']);
    expect(renderBlankQuestion(t.reask, clip.passage, clip.blanks[1])).toContain('A [...] bounces on the court while a ____ blows and the crowd [...].');
    expect(t.reask).toContain('{"answer": "<one letter>", "evidence": "<words copied from the caption, or none>"}');
  });
  test('unknown or malformed versions are typed errors', () => {
    expect(() => loadJudgePrompt('v999')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => loadJudgePrompt('../x')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
  test('empty caption renders a visible marker', () => {
    expect(renderJudgeSystem(loadJudgePrompt('v2'), '  ')).toContain('(empty caption)');
  });
});

describe('parseJudgeAnswers', () => {
  const ids = ['1', '2', '3'];
  test('JSON, bare map, code fences and line formats', () => {
    expect(parseJudgeAnswers('{"answers": {"1":"A","2":"e","3":"(C)"}}', ids)).toEqual({ ok: true, answers: { 1: 'A', 2: 'E', 3: 'C' } });
    expect(parseJudgeAnswers('```json\n{"1":"A","2":"B","3":"C"}\n```', ids)).toMatchObject({ ok: true });
    expect(parseJudgeAnswers('1: A\n2: B\n[BLANK_3]: D', ids)).toEqual({ ok: true, answers: { 1: 'A', 2: 'B', 3: 'D' } });
  });
  test('missing, extra, invalid and duplicate answers are rejected with a reason', () => {
    expect(parseJudgeAnswers('{"answers": {"1":"A","2":"B"}}', ids)).toEqual({ ok: false, reason: 'missing answers for blanks: 3' });
    expect(parseJudgeAnswers('{"answers": {"1":"A","2":"B","3":"C","4":"D"}}', ids)).toEqual({ ok: false, reason: 'unexpected blank ids: 4' });
    expect(parseJudgeAnswers('{"answers": {"1":"A","2":"AB","3":"C"}}', ids)).toMatchObject({ ok: false, reason: expect.stringMatching(/blank 2/) });
    expect(parseJudgeAnswers('{"answers": {"1":"A","2":"F","3":"C"}}', ids)).toMatchObject({ ok: false });
    expect(parseJudgeAnswers('1: A\n1: B\n2: C\n3: D', ids)).toMatchObject({ ok: false, reason: expect.stringMatching(/more than once/) });
    expect(parseJudgeAnswers('no idea', ids)).toMatchObject({ ok: false });
  });
});

describe('option permutation', () => {
  test('deterministic, keeps E, maps back to the original letters', () => {
    const b = clip.blanks[1];
    const p1 = permuteBlank(b, 42, clip.id);
    expect(permuteBlank(b, 42, clip.id)).toEqual(p1);
    expect(p1.options.E).toBe(b.options.E);
    for (const l of ['A', 'B', 'C', 'D'] as const) expect(p1.options[l]).toBe(b.options[p1.toOriginal[l]]);
    expect(new Set(Object.values(p1.options)).size).toBe(5);
  });
  test('the fake judge follows content, not letters, under permutation', () => {
    const t = loadJudgePrompt('v2');
    const perm = clip.blanks.map((b) => ({ id: b.id, ...permuteBlank(b, 7, clip.id) }));
    const ans = perm.map((p) => (JSON.parse(fakeJudgeReply(clip.caption ?? '', renderBlankQuestion(t.blank, clip.passage, p))) as { answer: 'A' }).answer);
    expect(perm.map((p, i) => p.toOriginal[ans[i]])).toEqual(['A', 'B', 'B']);
  });
});
