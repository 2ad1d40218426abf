/**
 * The released Omni-Cloze layout (uuid, video_path, cloze: {passage, blanks: [{answer text,
 * answer_key, distractors, answer_index, required_modality}]}, metadata.subcategory) and the
 * VLMEvalKit port's judged rows (cloze_prediction {"1": "A: female"}), files in
 * test/fixtures/cloze/{released,port-judged}.jsonl.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { answerLetter, parseClip, parseJsonlLines, parseJudgedLine, runClozeEval, scoreJudged, type ParsedJudged } from '../../src/cloze';
import { packageRoot } from '../../src/util/paths';
import { cli } from './cli';
import { FakeJudge } from './fake-judge';

const FIX = join(packageRoot(), 'test', 'fixtures', 'cloze');
const RELEASED = join(FIX, 'released.jsonl');
const PORT = join(FIX, 'port-judged.jsonl');

test('answer letters: "A", "a", "(B)", "C.", "A: female", "D - red"; not "female" or "AB"', () => {
  expect(['A', 'a', '(B)', 'C.', 'A: female', 'D - red', 'E: not given', ' b) dog'].map(answerLetter)).toEqual(['A', 'A', 'B', 'C', 'A', 'D', 'E', 'B']);
  for (const v of ['female', 'AB', 'F', '', 3, null, 'Answer: A']) expect(answerLetter(v)).toBeUndefined();
});

test('released lines parse natively: options from distractors + answer_index, answer_key, modality, subcategory', () => {
  const clips = parseJsonlLines(readFileSync(RELEASED, 'utf8'), (v) => parseClip(v));
  expect(clips.every((c) => c.ok)).toBe(true);
  const [c1, c2] = clips.map((c) => (c.ok ? c.value : undefined));
  expect(c1).toMatchObject({ id: '1', domain: 'education', category: 'lecture', caption: expect.stringMatching(/^A female speaker/) });
  expect(c1?.blanks[1]).toEqual({ id: '2', options: { A: 'angry', B: 'excited', C: 'calm', D: 'whispering', E: 'not given' }, answer: 'C', modality: 'audio' });
  // no [BLANK_n] markers in this passage: blank ids are positions
  expect(c2?.blanks.map((b) => [b.id, b.answer, b.options[b.answer]])).toEqual([['1', 'D', 'red'], ['2', 'A', 'muddy']]);
});

test('inconsistent released blanks are rejected with the reason', () => {
  const line = JSON.parse(readFileSync(RELEASED, 'utf8').split('\n')[0]) as { cloze: { blanks: Array<Record<string, unknown>> } };
  const bad = (patch: Record<string, unknown>): unknown => {
    const l = structuredClone(line);
    Object.assign(l.cloze.blanks[0], patch);
    return l;
  };
  expect(() => parseClip(bad({ answer_index: 2 }))).toThrow(/answer_index 2 does not point at answer_key A/);
  expect(() => parseClip(bad({ answer_key: 'female' }))).toThrow(/answer_key must be one of A-D/);
  expect(() => parseClip(bad({ distractors: ['x'] }))).toThrow(/3 "distractors"/);
  expect(() => parseClip(bad({ required_modality: 'smell' }))).toThrow(/required_modality/);
  expect(() => parseClip(bad({ options: { A: 'male', B: 'female', C: 'child', D: 'robot', E: 'not given' } }))).toThrow(/option A is "male" but the answer is "female"/);
});

test('cloze eval judges released files; scores follow (correct - wrong) / total', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloze-rel-'));
  const out = join(dir, 'judged.jsonl');
  const s = await runClozeEval({ input: RELEASED, output: out, judge: new FakeJudge() });
  expect(s).toMatchObject({ total: 3, judged: 3, failed: 0, inputErrors: [] });
  const recs = parseJsonlLines(readFileSync(out, 'utf8'), parseJudgedLine).flatMap((r) => (r.ok ? [r.value] : []));
  const report = scoreJudged(recs, { bootstrap: 0 });
  // fake judge (picks the option whose text is in the caption): 5 correct, 1 wrong (snowy), 1 not given (honks)
  expect(report.overall).toMatchObject({ blanks: 7, correct: 5, wrong: 1, notGiven: 1 });
  expect(report.overall.netScore).toBeCloseTo(4 / 7, 12);
  expect(Object.keys(report.byCategory)).toEqual(['football', 'lecture', 'street']);
});

test('--invalid-as-e: a judge that never answers validly gives all-E records (the port convention) instead of failed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloze-inv-'));
  const base = { input: RELEASED, judge: new FakeJudge({ alwaysGarbage: true }), maxReasks: 0 };
  const failed = await runClozeEval({ ...base, output: join(dir, 'a.jsonl') });
  expect(failed.failed).toBe(3);
  const asE = await runClozeEval({ ...base, output: join(dir, 'b.jsonl'), invalidAsE: true });
  expect(asE.failed).toBe(0);
  const rows = readFileSync(join(dir, 'b.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status: string; invalidJudgeOutput: boolean; blanks: Array<{ predicted: string }> });
  for (const r of rows) expect(r).toMatchObject({ status: 'ok', invalidJudgeOutput: true });
  expect(rows.flatMap((r) => r.blanks.map((b) => b.predicted))).toEqual(Array(7).fill('E'));
  const report = scoreJudged(parseJsonlLines(readFileSync(join(dir, 'b.jsonl'), 'utf8'), parseJudgedLine).flatMap((r) => (r.ok ? [r.value] : [])), { bootstrap: 0 });
  expect(report.overall).toMatchObject({ blanks: 7, correct: 0, notGiven: 7, netScore: 0 });
});

describe('the port judged rows', () => {
  const parsed = parseJsonlLines(readFileSync(PORT, 'utf8'), parseJudgedLine);
  const ok = parsed.flatMap((r): ParsedJudged[] => (r.ok ? [r.value] : []));

  it('are read with "A: text" predictions; a blank without a prediction is not counted (as the port)', () => {
    expect(ok).toHaveLength(3);
    expect(parsed.filter((r) => !r.ok).map((r) => r.line)).toEqual([4, 5]);
    const report = scoreJudged(ok, { bootstrap: 0 });
    // the port's numbers for these rows: total 6, correct 4, wrong 1, unknown 1 -> (4 - 1) / 6
    expect(report.overall).toMatchObject({ blanks: 6, correct: 4, wrong: 1, notGiven: 1 });
    expect(report.overall.netScore).toBe(0.5);
    expect(report.byModality['audio']).toMatchObject({ blanks: 3, correct: 2, notGiven: 1 });
    expect(report.byModality['visual']).toMatchObject({ blanks: 2, correct: 1, wrong: 1 });
    expect(report.byModality['audio-visual']).toMatchObject({ blanks: 1, correct: 1 });
    expect(report.byCategory['lecture']).toMatchObject({ blanks: 3 });
  });

  it('cloze score counts and lists rejected lines in the JSON and the HTML, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloze-port-'));
    const r = await cli(['score', '--input', PORT, '--json', join(dir, 'r.json'), '--html', join(dir, 'r.html'), '--bootstrap', '0']);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/clips 3 \(failed 0, rejected lines 2\), blanks 6: .* net 0\.5000/);
    const json = JSON.parse(readFileSync(join(dir, 'r.json'), 'utf8')) as { clips: number; rejectedLines: { count: number; lines: Array<{ line: number; message: string }> } };
    expect(json.clips).toBe(3);
    expect(json.rejectedLines.count).toBe(2);
    expect(json.rejectedLines.lines.map((l) => l.line)).toEqual([4, 5]);
    expect(json.rejectedLines.lines[1].message).toMatch(/"Z: \?\?\?" does not start with a letter A-E/);
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html).toContain('3 clips scored, 0 failed (excluded), 2 input lines rejected');
    expect(html).toContain('Rejected input lines (2)');
  });

  it('a file of only unreadable lines says so instead of "0 clips scored, 0 failed"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloze-bad-'));
    writeFileSync(join(dir, 'in.jsonl'), '{"uuid": 1}\nnot json\n');
    const r = await cli(['score', '--input', join(dir, 'in.jsonl'), '--html', join(dir, 'r.html'), '--bootstrap', '0']);
    expect(r.code).toBe(1);
    const html = readFileSync(join(dir, 'r.html'), 'utf8');
    expect(html).toContain('0 clips scored, 0 failed (excluded), 2 input lines rejected');
    expect(html).toContain('<strong>Nothing was scored</strong>');
  });
});
