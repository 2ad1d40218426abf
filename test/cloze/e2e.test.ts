import express from 'express';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { listenLoopback, type Loopback } from '../loopback';
import { cli } from './cli';
import type { ChatMessage } from '../../src/llm/types';
import { judgeAgreement, type OkClip } from '../../src/cloze/score';
import { captionOf, fakeJudgeReply } from './fake-judge';

const FIX = path.join(__dirname, '..', 'fixtures', 'cloze', 'bench.jsonl');

describe('cloze end to end through OpenAIChatModel and a loopback judge server', () => {
  let endpoint: Loopback;
  let url: string;
  let hits = 0;
  beforeAll(async () => {
    const app = express();
    app.use(express.json({ limit: '5mb' }));
    app.post('/v1/chat/completions', (req, res) => {
      hits++;
      const msgs = (req.body as { messages: ChatMessage[]; response_format?: unknown }).messages;
      if (hits === 1) return void res.status(503).set('Retry-After', '0').send('warming up');
      res.json({ model: 'loopback-judge', choices: [{ message: { role: 'assistant', content: fakeJudgeReply(captionOf(msgs[0].content), msgs[1].content) }, finish_reason: 'stop' }] });
    });
    endpoint = await listenLoopback(app);
    url = endpoint.url;
  });
  afterAll(async () => {
    await endpoint.close();
  });

  test('eval (caption, baseline, permuted) and score with JSON + HTML report', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cloze-e2e-'));
    const j = (n: string) => path.join(dir, n);
    const base = ['--input', FIX, '--judge-url', url, '--judge-model', 'loopback-judge', '--concurrency', '2'];
    const r1 = await cli(['eval', ...base, '--output', j('judged.jsonl'), '--cache-dir', j('cache')]);
    expect(r1.code).toBe(0);
    // progress per clip and blank with an ETA, then the score line (8 of the 12 answers are in the captions)
    expect(r1.err).toMatch(/^cloze eval: 4\/4 clips, 12\/12 blanks, [\d.]+ s per blank, elapsed \d+s, ETA 0s$/m);
    expect(r1.err).toMatch(/^cloze eval: 0\/4 clips, 1\/12 blanks \(clip clip-00\d, blank 1\/3\), [\d.]+ s per blank, elapsed \d+s, ETA \d+s$/m);
    expect(r1.err).toContain('cloze eval: score of caption: clips 4 (failed 0), blanks 12: accuracy 66.67%, not-given 16.67%, wrong 16.67%, net 0.5000, precision of A-D answers 80.00% (8/10)');
    expect(JSON.parse(r1.out)).toMatchObject({ total: 4, judged: 4, failed: 0, score: { variant: 'caption', clips: 4, blanks: 12, precision: 0.8 } });
    expect((await cli(['eval', ...base, '--output', j('baseline.jsonl'), '--baseline'])).code).toBe(0);
    expect((await cli(['eval', ...base, '--output', j('perm.jsonl'), '--permute-seed', '11'])).code).toBe(0);
    const s = await cli(['score', '--input', j('judged.jsonl'), '--json', j('r.json'), '--html', j('r.html'), '--bootstrap', '300', '--seed', '5', '--baseline-input', j('baseline.jsonl'), '--permuted-input', j('perm.jsonl'), '--second-judge', j('perm.jsonl')]);
    expect(s.code).toBe(0);
    expect(s.out).toContain('accuracy 66.67%');
    const rep = JSON.parse(readFileSync(j('r.json'), 'utf8'));
    expect(rep.overall).toMatchObject({ blanks: 12, correct: 8, notGiven: 2, wrong: 2 });
    // the fake judge reads content, so an empty caption gets nothing right and option order changes nothing
    expect(rep.robustness.baseline).toEqual({ blanks: 12, accuracy: 0, notGivenRate: 1 });
    expect(rep.robustness.permutation).toMatchObject({ pairedBlanks: 12, accuracyDelta: 0, consistency: 1 });
    expect(rep.robustness.agreement).toMatchObject({ pairedBlanks: 12, rawAgreement: 1, kappa: 1 });
    const html = readFileSync(j('r.html'), 'utf8');
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|<link|src="http/);
    expect(html).toContain('audio-visual');
  });

  test('score reports bad judged lines per line and exits 1, still scoring the good ones', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cloze-e2e-'));
    const judged = path.join(dir, 'j.jsonl');
    expect((await cli(['eval', '--input', FIX, '--judge-url', url, '--judge-model', 'loopback-judge', '--output', judged])).code).toBe(0);
    const lines = readFileSync(judged, 'utf8').trim().split('\n');
    const broken = JSON.parse(lines[1]);
    broken.blanks[0].predicted = 'Q';
    writeFileSync(judged, [lines[0], JSON.stringify(broken), lines[2], lines[3], 'nonsense'].join('\n') + '\n');
    const r = await cli(['score', '--input', judged, '--bootstrap', '0']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/line 2: .*predicted A-E/);
    expect(r.err).toMatch(/line 5: not valid JSON/);
    expect(r.out).toMatch(/clips 3 \(failed 0, rejected lines 2\), blanks 9/);
    await expect(cli(['score', '--input', path.join(dir, 'missing.jsonl')])).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  test('bad flags are typed errors', async () => {
    await expect(cli(['eval', '--input', FIX])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(cli(['frobnicate'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(cli(['score', '--input', FIX, '--bootstrap', '-1'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});

describe('judge agreement', () => {
  test("Cohen's kappa against a hand-computed value", () => {
    const mk = (preds: string[]): OkClip[] => [{ id: 'c', domain: 'd', category: 'k', variant: 'caption', judgeModel: 'j', blanks: preds.map((p, i) => ({ id: String(i + 1), answer: 'A', predicted: p as 'A', modality: 'audio' })) }];
    // po = 4/6, pe = (2*2 + 2*3 + 2*1)/36 = 1/3, kappa = (2/3 - 1/3) / (2/3) = 0.5
    const a = judgeAgreement(mk(['A', 'A', 'B', 'B', 'E', 'E']), mk(['A', 'B', 'B', 'B', 'E', 'A']));
    expect(a.pairedBlanks).toBe(6);
    expect(a.rawAgreement).toBeCloseTo(4 / 6);
    expect(a.kappa).toBeCloseTo(0.5);
  });
});
