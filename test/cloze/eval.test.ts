import { mkdtempSync, readFileSync, writeFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runClozeEval } from '../../src/cloze/eval';
import { parseJsonlLines } from '../../src/cloze/format';
import { parseJudgedLine, scoreJudged } from '../../src/cloze/score';
import { FakeJudge } from './fake-judge';

const FIX = path.join(__dirname, '..', 'fixtures', 'cloze', 'bench.jsonl');
const tmp = () => mkdtempSync(path.join(tmpdir(), 'cloze-eval-'));
const readLines = (f: string) => readFileSync(f, 'utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);

describe('cloze eval', () => {
  test('judges every clip once, records judge metadata, and scores to the hand-computed numbers', async () => {
    const dir = tmp();
    const out = path.join(dir, 'judged.jsonl');
    const judge = new FakeJudge();
    const s = await runClozeEval({ input: FIX, output: out, judge, concurrency: 2, seed: 3 });
    expect(s).toMatchObject({ total: 4, judged: 4, skipped: 0, failed: 0, inputErrors: [] });
    expect(judge.calls).toBe(12); // one call per blank
    const lines = readLines(out);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatchObject({ status: 'ok', variant: 'caption', judge: { model: 'fake-judge', promptVersion: 'v2', temperature: 0, seed: 3 } });
    expect(typeof lines[0].startedAt).toBe('string');
    const recs = parseJsonlLines(readFileSync(out, 'utf8'), parseJudgedLine).map((r) => { if (!r.ok) throw r.error; return r.value; });
    const rep = scoreJudged(recs, { bootstrap: 200, seed: 1 });
    // hand-computed: 12 blanks; correct 8, not-given 2 (clip-002 dress colour, clip-003 taste), wrong 2 (crowd boos, onions)
    expect(rep.overall).toMatchObject({ blanks: 12, correct: 8, notGiven: 2, wrong: 2, clips: 4 });
    expect(rep.overall.accuracy).toBeCloseTo(8 / 12);
    expect(rep.overall.netScore).toBeCloseTo(0.5);
    expect(rep.byModality.visual).toMatchObject({ blanks: 5, correct: 3, notGiven: 1, wrong: 1 });
    expect(rep.byModality.audio).toMatchObject({ blanks: 5, correct: 4, notGiven: 1, wrong: 0 });
    expect(rep.byModality['audio-visual']).toMatchObject({ blanks: 2, correct: 1, notGiven: 0, wrong: 1 });
    expect(rep.byDomain.sports).toMatchObject({ blanks: 5, correct: 4, wrong: 1, clips: 2 });
    expect(rep.byDomain.music).toMatchObject({ blanks: 3, correct: 2, notGiven: 1 });
    expect(rep.byCategory.cooking).toMatchObject({ blanks: 4, correct: 2, notGiven: 1, wrong: 1 });
    const ci = rep.overall.ci!;
    expect(ci.accuracy.low).toBeLessThanOrEqual(8 / 12);
    expect(ci.accuracy.high).toBeGreaterThanOrEqual(8 / 12);
    expect(scoreJudged(recs, { bootstrap: 200, seed: 1 }).overall.ci).toEqual(ci);
  });

  test('bad lines get per-line errors without losing the other lines', async () => {
    const dir = tmp();
    const input = path.join(dir, 'in.jsonl');
    const good = readFileSync(FIX, 'utf8').split('\n').filter((l) => l !== '');
    const unknownLetter = JSON.parse(good[3]);
    unknownLetter.id = 'x-letter';
    unknownLetter.blanks[0].options.F = 'extra';
    const missing = JSON.parse(good[3]);
    missing.id = 'x-missing';
    delete missing.blanks[1].modality;
    writeFileSync(input, [good[0], '{"id": "broken', JSON.stringify(unknownLetter), good[1], JSON.stringify(missing), '{"domain":"x"}'].join('\n') + '\n');
    const out = path.join(dir, 'o.jsonl');
    const s = await runClozeEval({ input, output: out, judge: new FakeJudge() });
    expect(s.judged).toBe(2);
    expect(s.inputErrors.map((e) => e.line)).toEqual([2, 3, 5, 6]);
    expect(s.inputErrors[0].message).toMatch(/line 2: not valid JSON/);
    expect(s.inputErrors[1].message).toMatch(/unknown option letter "F"/);
    expect(s.inputErrors[2].message).toMatch(/blank 2: modality/);
    expect(s.inputErrors[3].message).toMatch(/missing "id"/);
    expect(readLines(out).map((l) => l.id)).toEqual(['clip-001', 'clip-002']);
  });

  test('resume after a crash mid-line: no duplicate, no loss', async () => {
    const dir = tmp();
    const out = path.join(dir, 'judged.jsonl');
    await runClozeEval({ input: FIX, output: out, judge: new FakeJudge(), concurrency: 1 });
    const full = readFileSync(out, 'utf8');
    const lines = full.split('\n').filter((l) => l !== '');
    // simulate kill -9 while writing the third line
    writeFileSync(out, `${lines[0]}\n${lines[1]}\n${lines[2].slice(0, 40)}`);
    const judge = new FakeJudge();
    const s = await runClozeEval({ input: FIX, output: out, judge, concurrency: 1 });
    expect(s).toMatchObject({ skipped: 2, judged: 2, droppedPartialLine: true });
    expect(judge.calls).toBe(6); // the blanks of clip-003 (4) and clip-004 (2)
    const ids = readLines(out).map((l) => l.id);
    expect(ids.sort()).toEqual(['clip-001', 'clip-002', 'clip-003', 'clip-004']);
    // a third run does nothing
    const again = await runClozeEval({ input: FIX, output: out, judge });
    expect(again).toMatchObject({ judged: 0, skipped: 4 });
  });

  test('garbage twice then valid: bounded re-ask with the error message', async () => {
    const dir = tmp();
    const input = path.join(dir, 'one.jsonl');
    writeFileSync(input, readFileSync(FIX, 'utf8').split('\n')[3] + '\n');
    const judge = new FakeJudge({ garbageFirst: 2 });
    const out = path.join(dir, 'o.jsonl');
    const s = await runClozeEval({ input, output: out, judge });
    expect(s.failed).toBe(0);
    expect(judge.calls).toBe(4); // blank 1: two invalid replies then a valid one; blank 2: one call
    const last = judge.seen[2];
    expect(last).toHaveLength(6);
    expect(last[5].content).toMatch(/invalid/);
    expect(judge.seen[3]).toHaveLength(2); // the next blank starts from its own clean question
    expect(readLines(out)[0]).toMatchObject({ status: 'ok', calls: 4, blanks: [{ predicted: 'B' }, { predicted: 'A' }] });
  });

  test('a judge that always fails -> status failed, excluded from accuracy, never scored as zero', async () => {
    const dir = tmp();
    const out = path.join(dir, 'o.jsonl');
    const s = await runClozeEval({ input: FIX, output: out, judge: new FakeJudge({ alwaysGarbage: true }), maxReasks: 1 });
    expect(s.failed).toBe(4);
    const lines = readLines(out);
    expect(lines.every((l) => l.status === 'failed' && typeof l.reason === 'string' && l.calls === 2)).toBe(true);
    const recs = lines.map(parseJudgedLine);
    const rep = scoreJudged(recs, { bootstrap: 0 });
    expect(rep.failedClips).toBe(4);
    expect(rep.overall.blanks).toBe(0);
  });

  test('--retry-failed re-judges failed clips; the newer line wins when scoring', async () => {
    const dir = tmp();
    const out = path.join(dir, 'o.jsonl');
    await runClozeEval({ input: FIX, output: out, judge: new FakeJudge({ alwaysGarbage: true }), maxReasks: 0 });
    const plain = await runClozeEval({ input: FIX, output: out, judge: new FakeJudge() });
    expect(plain).toMatchObject({ judged: 0, skipped: 4 });
    const retried = await runClozeEval({ input: FIX, output: out, judge: new FakeJudge(), retryFailed: true });
    expect(retried).toMatchObject({ judged: 4, failed: 0 });
    const rep = scoreJudged(readLines(out).map(parseJudgedLine), { bootstrap: 0 });
    expect(rep).toMatchObject({ clips: 4, failedClips: 0, overall: { blanks: 12, correct: 8 } });
  });

  test('mixing variants in one file is a typed error when scoring', async () => {
    const dir = tmp();
    const out = path.join(dir, 'o.jsonl');
    await runClozeEval({ input: FIX, output: out, judge: new FakeJudge() });
    await runClozeEval({ input: FIX, output: out, judge: new FakeJudge(), variant: 'baseline' });
    expect(readLines(out)).toHaveLength(8);
    expect(() => scoreJudged(readLines(out).map(parseJudgedLine))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  test('abort stops between clips with ABORTED; a resumed run completes without duplicates', async () => {
    const dir = tmp();
    const out = path.join(dir, 'o.jsonl');
    const ac = new AbortController();
    let n = 0;
    await expect(runClozeEval({ input: FIX, output: out, judge: new FakeJudge(), concurrency: 1, signal: ac.signal, onClip: () => { if (++n === 2) ac.abort(); } })).rejects.toMatchObject({ code: 'ABORTED' });
    expect(readLines(out)).toHaveLength(2);
    const s = await runClozeEval({ input: FIX, output: out, judge: new FakeJudge() });
    expect(s).toMatchObject({ skipped: 2, judged: 2 });
    expect(new Set(readLines(out).map((l) => l.id)).size).toBe(4);
  });

  test('cache: a second run into a new output makes no judge calls', async () => {
    const dir = tmp();
    const cacheDir = path.join(dir, 'cache');
    await runClozeEval({ input: FIX, output: path.join(dir, 'a.jsonl'), judge: new FakeJudge(), cacheDir });
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.json'))).toHaveLength(4);
    const judge = new FakeJudge();
    await runClozeEval({ input: FIX, output: path.join(dir, 'b.jsonl'), judge, cacheDir });
    expect(judge.calls).toBe(0);
    expect(readLines(path.join(dir, 'b.jsonl')).every((l) => l.cached === true)).toBe(true);
    // a different judge model id misses the cache
    const other = new FakeJudge({ id: 'other' });
    await runClozeEval({ input: FIX, output: path.join(dir, 'c.jsonl'), judge: other, cacheDir });
    expect(other.calls).toBe(12);
  });

  test('custom caption field', async () => {
    const dir = tmp();
    const input = path.join(dir, 'in.jsonl');
    const l = JSON.parse(readFileSync(FIX, 'utf8').split('\n')[3]);
    l.my_caption = l.predicted_caption;
    delete l.predicted_caption;
    writeFileSync(input, JSON.stringify(l) + '\n');
    const s1 = await runClozeEval({ input, output: path.join(dir, 'o1.jsonl'), judge: new FakeJudge() });
    expect(s1.inputErrors[0].message).toMatch(/no "predicted_caption"/);
    const s2 = await runClozeEval({ input, output: path.join(dir, 'o2.jsonl'), judge: new FakeJudge(), captionField: 'my_caption' });
    expect(s2.judged).toBe(1);
  });
});
