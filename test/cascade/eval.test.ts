/**
 * Cascade QA end to end on a small real set: 24 questions written for registry media (LibriVox
 * and card speech and alsa-utils channel names from Debian, sound-theme-freedesktop effects, the
 * npm audio-lena song, the ffmpeg-made test videos) in the MMAR-meta layout, with hand-written
 * truth captions. The answerer is a scripted content-reading fake (in-process or behind an
 * OpenAI-compatible loopback endpoint); the real local LLM is in local-answerer.test.ts.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runCascadeEval, type CascadeRecord } from '../../src/cascade/eval';
import { readQaFile, type QaItem } from '../../src/cascade/layout';
import { parseCascadeLine, scoreCascade, type CascadeScoreReport } from '../../src/cascade/score';
import { cli } from './cli';
import { FakeAnswerer, startFakeServer, type FakeServer } from './fake-answerer';

const FIX = path.join(__dirname, '..', 'fixtures', 'cascade');
const QA = path.join(FIX, 'qa-mmar.jsonl');
const TRUTH = path.join(FIX, 'captions-truth.jsonl');

const readRecords = (f: string): CascadeRecord[] => readFileSync(f, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as CascadeRecord);
const score = (f: string): CascadeScoreReport => scoreCascade(readRecords(f).map(parseCascadeLine), { bootstrap: 200, seed: 1 });
const tmp = (): string => mkdtempSync(path.join(tmpdir(), 'cascade-eval-'));

/** The truth captions with every caption emptied (same clips, nothing said). */
function emptyCaptions(dir: string): string {
  const f = path.join(dir, 'captions-empty.jsonl');
  const lines = readFileSync(TRUTH, 'utf8').trim().split('\n').map((l) => ({ ...(JSON.parse(l) as object), caption: '', audio_path: path.resolve(FIX, (JSON.parse(l) as { audio_path: string }).audio_path) }));
  writeFileSync(f, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return f;
}

describe('the fixture set', () => {
  test('24 questions over speech, sound effects, music and video, each clip with a truth caption', async () => {
    const qa = await readQaFile(QA);
    expect(qa).toMatchObject({ layout: 'mmar', errors: [] });
    expect(qa.items).toHaveLength(24);
    const by = (m: string): number => qa.items.filter((i) => i.modality === m).length;
    expect([by('speech'), by('sound'), by('music'), by('video') + by('mix-speech-video')]).toEqual([9, 7, 3, 5]);
    expect(qa.items[0].media).toBe(path.resolve(FIX, '../../media/cache/debian/librivox-sense_and_sensibility_01_austen_64kb-0870.wav'));
  });
});

describe('cascade eval with a scripted answerer', () => {
  test('truth captions score high, empty captions and no captions near chance', async () => {
    const dir = tmp();
    const run = async (name: string, captions: string[] | undefined): Promise<CascadeScoreReport> => {
      const out = path.join(dir, `${name}.jsonl`);
      const s = await runCascadeEval({ input: QA, output: out, answerer: new FakeAnswerer(), captions, variant: captions === undefined ? 'baseline' : 'caption' });
      expect(s).toMatchObject({ questions: 24, answered: 24, errors: 0, missingCaptions: [] });
      return score(out);
    };
    const truth = (await run('truth', [TRUTH])).caption!.rules.choice.overall;
    const empty = (await run('empty', [emptyCaptions(dir)])).caption!.rules.choice.overall;
    const none = (await run('none', undefined)).baseline!.rules.choice.overall;
    expect(truth.questions).toBe(24);
    // the scripted answerer cannot count or order ("how many cards", "named last") and cannot read silence
    expect(truth.accuracy).toBeGreaterThanOrEqual(20 / 24);
    // chance: 1/4 for the 20 four-choice questions, 1/3 for three, 1/2 for one
    expect(truth.chance).toBeCloseTo((20 / 4 + 3 / 3 + 1 / 2) / 24, 6);
    for (const m of [empty, none]) {
      expect(m.accuracy).toBeLessThanOrEqual(truth.chance + 0.15);
      expect(m.ci!.low).toBeLessThanOrEqual(truth.chance);
    }
    expect(truth.ci!.low).toBeGreaterThan(empty.ci!.high);
  });

  test('a failed call is retried by the transport and then recorded as an error, never as a wrong answer', async () => {
    const dir = tmp();
    const bad = await startFakeServer({ failFor: 'Which suit is named last?' });
    const out = path.join(dir, 'out.jsonl');
    try {
      const r = await cli(['eval', '--input', QA, '--captions', TRUTH, '--output', out, '--answerer-url', bad.url, '--answerer-model', 'm', '--workers', '3', '--no-progress']);
      expect(r.code).toBe(1);
      // 23 answered + 4 HTTP attempts (the transport's bounded retries) for the failing question
      expect(bad.hits()).toBe(23 + 4);
      const recs = readRecords(out);
      const failed = recs.filter((x) => x.cascade.status === 'error');
      expect(failed).toHaveLength(1);
      expect(failed[0].cascade).toMatchObject({ id: 'omq-05', status: 'error', error: { code: 'UPSTREAM_ERROR', message: expect.stringContaining('HTTP 500') } });
      expect(failed[0]).not.toHaveProperty('answer_prediction');
      expect(failed[0].cascade).not.toHaveProperty('prediction');
      const rep = score(out);
      expect(rep.caption).toMatchObject({ questions: 23, errors: 1, errorList: [{ id: 'omq-05', perm: 0, code: 'UPSTREAM_ERROR' }] });
      expect(r.err).toContain('23 answered, 1 failed calls');
    } finally {
      await bad.close();
    }
    // the next run asks the failed question again and only that one
    const good = await startFakeServer();
    try {
      const r = await cli(['eval', '--input', QA, '--captions', TRUTH, '--output', out, '--answerer-url', good.url, '--answerer-model', 'm', '--no-progress']);
      expect(r.code).toBe(0);
      expect(good.hits()).toBe(1);
      expect(JSON.parse(r.out)).toMatchObject({ answered: 1, skipped: 23, errors: 0 });
      const rep = score(out);
      expect(rep.caption).toMatchObject({ questions: 24, errors: 0 });
    } finally {
      await good.close();
    }
  });

  test('an invalid reply is re-asked with the reason; one that stays invalid is an error line', async () => {
    const dir = tmp();
    const once = new FakeAnswerer({ garbageFirst: 1 });
    const out = path.join(dir, 'a.jsonl');
    await runCascadeEval({ input: QA, output: out, answerer: once, captions: [TRUTH] });
    const first = readRecords(out).find((r) => r.cascade.attempts === 2);
    expect(first?.cascade.status).toBe('ok');
    expect(once.seen[1].map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(once.seen[1][3].content).toMatch(/^Your reply was invalid: the answer must be one letter A-D/);
    const never = new FakeAnswerer({ garbageFirst: 1000 });
    const out2 = path.join(dir, 'b.jsonl');
    const s = await runCascadeEval({ input: QA, output: out2, answerer: never, captions: [TRUTH], maxReasks: 1 });
    expect(s).toMatchObject({ answered: 0, errors: 24 });
    expect(never.calls).toBe(48);
    expect(readRecords(out2)[0].cascade).toMatchObject({ status: 'error', error: { code: 'LLM_BAD_OUTPUT' }, raw: 'I think it is the second one.', attempts: 2 });
    expect(score(out2).caption).toMatchObject({ questions: 0, errors: 24 });
  });
});

describe('omnicap cascade eval + score through a loopback endpoint', () => {
  let server: FakeServer;
  beforeAll(async () => {
    server = await startFakeServer();
  });
  afterAll(async () => server.close());

  test('records, permutations, baseline beside, JSON and HTML reports', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out.jsonl');
    const base = ['--input', QA, '--output', out, '--answerer-url', server.url, '--answerer-model', 'loopback-answerer', '--workers', '3', '--seed', '7'];
    const r1 = await cli(['eval', ...base, '--captions', TRUTH, '--permute', '2']);
    expect(r1.code).toBe(0);
    expect(JSON.parse(r1.out)).toMatchObject({ layout: 'mmar', questions: 24, answered: 72, errors: 0, skipped: 0, missingCaptions: 0 });
    expect(r1.err).toMatch(/^cascade eval: 72\/72 calls, [\d.]+ s per call, elapsed \d+s, ETA 0s$/m);
    expect(r1.err).toMatch(/with captions: accuracy \d+\.\d\d% \(\d+\/24, chance 27\.1%, plain choice match; MMAR rule/);
    const r2 = await cli(['eval', ...base, '--baseline']);
    expect(r2.code).toBe(0);
    expect(r2.err).toMatch(/no-caption baseline: accuracy/);

    const recs = readRecords(out);
    expect(recs).toHaveLength(96);
    const q1 = recs.find((r) => r.cascade.id === 'omq-01' && r.cascade.variant === 'caption' && r.cascade.perm === 0)!;
    // the question's own fields, MMAR's prediction field, and the call under "cascade"
    expect(q1).toMatchObject({ id: 'omq-01', modality: 'speech', category: 'Semantic Layer', 'sub-category': 'Content Understanding', answer_prediction: 'Dashwood' });
    expect(q1.cascade).toMatchObject({ status: 'ok', model: 'loopback-answerer', seed: 7, temperature: 0, predictedIndex: 2, prediction: 'Dashwood', predictedLetter: 'C', raw: '{"answer":"C"}', order: [0, 1, 2, 3], layout: 'mmar', qa: { file: QA, line: 1 } });
    expect(q1.cascade.caption).toMatchObject({ source: `${TRUTH}:1`, chars: expect.any(Number) });
    // the question is in the line once: the call refers to it, and reading the line back takes it from the line's own fields
    for (const field of ['question', 'choices', 'answer', 'answerIndex', 'media', 'modality', 'category', 'subCategory']) expect(q1.cascade).not.toHaveProperty(field);
    expect(parseCascadeLine(q1)).toMatchObject({
      id: 'omq-01', question: 'Which family name does the speaker say?', choices: ['Middleton', 'Ferrars', 'Dashwood', 'Willoughby'], answer: 'Dashwood', answerIndex: 2,
      modality: 'speech', category: 'Semantic Layer', subCategory: 'Content Understanding', media: (await readQaFile(QA)).items[0].media, prediction: 'Dashwood',
    });
    // the released layout's own reader takes the output lines as MMAR items, the same as the QA file's
    const asQa = path.join(dir, 'as-qa.jsonl');
    writeFileSync(asQa, recs.filter((r) => r.cascade.variant === 'caption' && r.cascade.perm === 0).map((r) => JSON.stringify(r)).join('\n') + '\n');
    const reread = await readQaFile(asQa);
    expect(reread).toMatchObject({ layout: 'mmar', errors: [] });
    const question = ({ id, question: q, choices, answer, answerIndex, modality, category, subCategory }: QaItem): unknown[] => [id, q, choices, answer, answerIndex, modality, category, subCategory];
    const byId = (a: QaItem, b: QaItem): number => a.id.localeCompare(b.id);
    expect(reread.items.sort(byId).map(question)).toEqual((await readQaFile(QA)).items.sort(byId).map(question));
    // lines written before the question was kept once (its fields repeated under "cascade") still read
    const { media, question: q, choices, answer, answerIndex, modality, category, subCategory } = parseCascadeLine(q1);
    const legacy = { ...q1, cascade: { ...q1.cascade, media, question: q, choices, answer, answerIndex, modality, category, subCategory } };
    expect(parseCascadeLine(legacy)).toEqual(parseCascadeLine(q1));
    expect(() => parseCascadeLine({ ...q1, id: 'omq-02' })).toThrow("question omq-01: the line's own id is \"omq-02\"");
    const user = q1.cascade.prompt.messages[1].content;
    expect(user).toContain('mister John Dashwood had then leisure');
    expect(user).toContain('Question: Which family name does the speaker say?\nSelect one option from the provided choices:\nA. Middleton\nB. Ferrars\nC. Dashwood\nD. Willoughby');
    // shuffled orders map back to the original choice
    const shuffled = recs.filter((r) => r.cascade.id === 'omq-01' && r.cascade.variant === 'caption' && r.cascade.perm > 0);
    expect(shuffled).toHaveLength(2);
    for (const r of shuffled) {
      expect(r.cascade.prediction).toBe('Dashwood');
      expect(r.cascade.order[r.cascade.predictedLetter!.charCodeAt(0) - 65]).toBe(2);
    }
    // the baseline prompt carries no description; every request asked for one letter by schema
    const b1 = recs.find((r) => r.cascade.id === 'omq-01' && r.cascade.variant === 'baseline')!;
    expect(b1.cascade.prompt.messages[1].content).not.toContain('Description');
    expect(b1.cascade).not.toHaveProperty('caption');
    expect(server.bodies[0].response_format).toEqual({ type: 'json_schema', json_schema: { name: 'reply', strict: true, schema: { type: 'object', properties: { answer: { type: 'string', enum: expect.arrayContaining(['A', 'B']) } }, required: ['answer'], additionalProperties: false } } });
    expect(server.bodies[0].seed).toBe(7);

    const json = path.join(dir, 's.json');
    const html = path.join(dir, 'r.html');
    const s = await cli(['score', '--input', out, '--json', json, '--html', html, '--bootstrap', '300']);
    expect(s.code).toBe(0);
    expect(s.out).toMatch(/^with captions: 24 questions \(0 failed calls excluded\), choice match [\d.]+% \[[\d.]+, [\d.]+\], MMAR rule [\d.]+%, chance 27\.1%; no caption: 24 questions/);
    const rep = JSON.parse(readFileSync(json, 'utf8')) as CascadeScoreReport & { rejectedLines: { count: number } };
    const c = rep.caption!.rules;
    expect(Object.keys(c.choice.byModality)).toEqual(['mix-speech-video', 'music', 'sound', 'speech', 'video']);
    expect(Object.keys(c.mmar.byCategory)).toEqual(['Perception Layer', 'Semantic Layer', 'Signal Layer']);
    expect(c.choice.bySubCategory.Duration).toMatchObject({ questions: 3 });
    expect(c.choice.overall.accuracy).toBeGreaterThan(rep.baseline!.rules.choice.overall.accuracy + 0.4);
    expect(rep.baseline!.questions).toBe(24);
    // the scripted answerer reads content; where it guesses (a tie), it guesses a position, so orders disagree there
    expect(rep.permutation.caption).toMatchObject({ permutations: 2, questions: 24 });
    expect(rep.permutation.caption!.agreement).toBeGreaterThanOrEqual(0.7);
    expect(rep.permutation.caption!.accuracyByOrder).toHaveLength(3);
    expect(rep.rejectedLines.count).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('<svg');
    expect(page).not.toMatch(/<script|<link|src="http|href="http/);
    expect(page).toContain('MMAR&#39;s rule');
    expect(page).toContain('plain choice match');
    expect(page).toMatch(/no caption [\d.]+% \(n=24\)/);
    expect(page).toContain('Semantic Layer');
  });

  test('captions from a detect output (matched by media path) and by id; clips without one are listed and excluded', async () => {
    const dir = tmp();
    const truth = readFileSync(TRUTH, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { audio_path: string; caption: string });
    // detect's own format: media.path absolute, the input line under "input"; two clips left out, one failed
    const detect = truth.slice(0, 10).map((t, i) => ({ id: `clip-${i}`, status: i === 1 ? 'degraded' : 'ok', media: { path: path.resolve(FIX, t.audio_path) }, input: { path: t.audio_path }, caption: t.caption, models: { detective: 'qwen' } }));
    detect[3] = { ...detect[3], status: 'error', caption: undefined as unknown as string };
    const detectFile = path.join(dir, 'detect.jsonl');
    writeFileSync(detectFile, detect.map((d) => JSON.stringify(d)).join('\n') + '\n');
    // a second file keyed by question id gives the card question a caption
    const byId = path.join(dir, 'by-id.jsonl');
    writeFileSync(byId, JSON.stringify({ id: 'omq-06', caption: 'A voice says "ten of clubs".' }) + '\n');
    const out = path.join(dir, 'out.jsonl');
    const r = await cli(['eval', '--input', QA, '--captions', detectFile, '--captions', byId, '--output', out, '--answerer-url', server.url, '--answerer-model', 'loopback-answerer', '--no-progress']);
    expect(r.code).toBe(0);
    const recs = readRecords(out);
    const ids = new Set(recs.map((x) => x.cascade.id));
    // clip 3 (cards-001) failed in detect but its question has a caption by id; clips 10-12 (lena, videos) have none
    expect(ids.has('omq-06')).toBe(true);
    const excluded = ['omq-17', 'omq-18', 'omq-19', 'omq-20', 'omq-21', 'omq-22', 'omq-23', 'omq-24'];
    for (const id of excluded) {
      expect(ids.has(id)).toBe(false);
      expect(r.err).toContain(`cascade eval: excluded ${id} (`);
    }
    expect(JSON.parse(r.out)).toMatchObject({ questions: 24, answered: 16, missingCaptions: 8 });
    expect(r.err).toContain(`${detectFile}:4: ignored: a failed clip (status "error"): no caption`);
    const q2 = recs.find((x) => x.cascade.id === 'omq-03')!;
    expect(q2.cascade.caption).toMatchObject({ source: `${detectFile}:2`, status: 'degraded', model: 'qwen' });
    expect(recs.find((x) => x.cascade.id === 'omq-06')!.cascade.caption).toMatchObject({ source: `${byId}:1` });
    expect(score(out).caption).toMatchObject({ questions: 16, errors: 0 });
  });

  test('resume: a second run answers nothing again; a torn last line is redone', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out.jsonl');
    const args = ['eval', '--input', QA, '--captions', TRUTH, '--output', out, '--answerer-url', server.url, '--answerer-model', 'loopback-answerer', '--no-progress'];
    expect((await cli(args)).code).toBe(0);
    const full = readFileSync(out, 'utf8');
    const before = server.hits();
    const again = await cli(args);
    expect(JSON.parse(again.out)).toMatchObject({ answered: 0, skipped: 24 });
    expect(server.hits()).toBe(before);
    writeFileSync(out, full.slice(0, full.length - 40));
    const torn = await cli(args);
    expect(JSON.parse(torn.out)).toMatchObject({ answered: 1, skipped: 23, droppedPartialLine: true });
    expect(readRecords(out).map((x) => x.cascade.id).sort()).toEqual(readRecords(QA.replace('qa-mmar.jsonl', 'qa-mmar.jsonl')).map((x) => (x as unknown as { id: string }).id).sort());
  });

  test('bad flags and inputs are typed errors', async () => {
    const out = path.join(tmp(), 'x.jsonl');
    await expect(cli(['eval', '--input', QA, '--output', out, '--answerer-url', server.url, '--answerer-model', 'm'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('--captions is required') });
    await expect(cli(['eval', '--input', QA, '--output', out, '--captions', TRUTH, '--baseline', '--answerer-url', server.url, '--answerer-model', 'm'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(cli(['eval', '--input', QA, '--output', out, '--captions', TRUTH, '--answerer', 'gpt'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(cli(['eval', '--input', QA, '--output', out, '--captions', TRUTH, '--answerer-url', server.url])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('--answerer-model') });
    await expect(cli(['eval', '--input', QA, '--output', out, '--captions', TRUTH, '--answerer', 'local', '--answerer-url', server.url, '--answerer-model', 'm'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('exclusive') });
    await expect(cli(['eval', '--input', QA, '--output', out, '--captions', TRUTH, '--layout', 'vqa', '--answerer-url', server.url, '--answerer-model', 'm'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(cli(['eval', '--input', QA, '--output', out, '--captions', TRUTH, '--answerer', 'local', '--answerer-gguf', '/nope.gguf'])).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(cli(['eval', '--input', QA, '--output', out, '--captions', path.join(FIX, 'nope.jsonl'), '--answerer-url', server.url, '--answerer-model', 'm'])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(cli(['score', '--input', path.join(FIX, 'nope.jsonl')])).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(cli(['frobnicate'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('score lists unreadable lines and exits 1, still scoring the rest', async () => {
    const dir = tmp();
    const out = path.join(dir, 'out.jsonl');
    expect((await cli(['eval', '--input', QA, '--captions', TRUTH, '--output', out, '--answerer-url', server.url, '--answerer-model', 'loopback-answerer', '--no-progress'])).code).toBe(0);
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    writeFileSync(out, [...lines.slice(0, 20), 'garbage', JSON.stringify({ id: 'x' })].join('\n') + '\n');
    const r = await cli(['score', '--input', out, '--bootstrap', '0']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/line 21: not valid JSON/);
    expect(r.err).toMatch(/line 22: not a cascade eval line/);
    expect(r.out).toMatch(/^with captions: 20 questions/);
  });
});
