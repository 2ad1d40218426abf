import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseClip } from '../../src/cloze/format';
import { loadJudgePrompt, parseJudgeAnswers, permuteBlank, renderJudgePrompt } from '../../src/cloze/prompt';
import { fakeJudgeAnswer } from './fake-judge';

const clip = parseClip(JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'cloze', 'bench.jsonl'), 'utf8').split('\n')[0]));

describe('judge prompt', () => {
  test('rendered v1 prompt snapshot', () => {
    expect(renderJudgePrompt(loadJudgePrompt('v1'), clip.caption ?? '', clip.passage, clip.blanks)).toMatchSnapshot();
  });
  test('unknown or malformed versions are typed errors', () => {
    expect(() => loadJudgePrompt('v999')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(() => loadJudgePrompt('../x')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
  test('empty caption renders a visible marker', () => {
    expect(renderJudgePrompt(loadJudgePrompt('v1'), '  ', clip.passage, clip.blanks)).toContain('(empty caption)');
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
    const perm = clip.blanks.map((b) => ({ id: b.id, ...permuteBlank(b, 7, clip.id) }));
    const ans = JSON.parse(fakeJudgeAnswer(renderJudgePrompt(loadJudgePrompt('v1'), clip.caption ?? '', clip.passage, perm))).answers as Record<string, 'A'>;
    expect(perm.map((p) => p.toOriginal[ans[p.id]])).toEqual(['A', 'B', 'B']);
  });
});
