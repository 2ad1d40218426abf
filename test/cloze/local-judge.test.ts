/**
 * Omni-Cloze judged by the embedded in-process model (Gemma 3 270M GGUF via node-llama-cpp,
 * installed by scripts/setup-models.sh from PyPI wheels). A 270M base model is no useful judge, so
 * this checks the product path, not its accuracy: grammar-constrained replies parse on the first
 * call for every clip, every blank gets one letter, the judge id is recorded, the cache is reused,
 * and `omnicap cloze eval --judge local` + `cloze score` run end to end.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cli } from './cli';
import { runClozeEval } from '../../src/cloze/eval';
import { judgeAnswerSchema } from '../../src/cloze/judge';
import { LocalChatModel } from '../../src/llm/local';

const FIX = path.join(__dirname, '..', 'fixtures', 'cloze', 'bench.jsonl');

interface Line {
  id: string;
  status: string;
  calls: number;
  cached: boolean;
  judge: { model: string };
  blanks: Array<{ id: string; predicted: string }>;
}

describe('cloze judged by the embedded local model', () => {
  it('the reply schema lists every blank and only letters A-E', () => {
    expect(judgeAnswerSchema(['1', '2'])).toEqual({
      type: 'object',
      properties: { answers: { type: 'object', properties: { 1: { enum: ['A', 'B', 'C', 'D', 'E'] }, 2: { enum: ['A', 'B', 'C', 'D', 'E'] } }, required: ['1', '2'], additionalProperties: false } },
      required: ['answers'],
      additionalProperties: false,
    });
  });

  it('library: every clip judged in one grammar-constrained call, then served from the cache', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cloze-local-'));
    const judge = await LocalChatModel.load();
    try {
      const opts = { input: FIX, judge, cacheDir: path.join(dir, 'cache'), concurrency: 1 };
      const s1 = await runClozeEval({ ...opts, output: path.join(dir, 'a.jsonl') });
      expect(s1).toMatchObject({ total: 4, judged: 4, failed: 0 });
      const lines = readFileSync(path.join(dir, 'a.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
      expect(lines).toHaveLength(4);
      const blanksPerClip = readFileSync(FIX, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { blanks: unknown[] }).blanks.length);
      lines.forEach((l, i) => {
        expect(l).toMatchObject({ status: 'ok', calls: 1, cached: false, judge: { model: 'gemma-3-270m-q4_k_m' } });
        expect(l.blanks).toHaveLength(blanksPerClip[i]);
        for (const b of l.blanks) expect(['A', 'B', 'C', 'D', 'E']).toContain(b.predicted);
      });
      const s2 = await runClozeEval({ ...opts, output: path.join(dir, 'b.jsonl') });
      expect(s2).toMatchObject({ judged: 4, failed: 0 });
      const again = readFileSync(path.join(dir, 'b.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
      expect(again.every((l) => l.cached && l.calls === 0)).toBe(true);
      expect(again.map((l) => l.blanks)).toEqual(lines.map((l) => l.blanks));
    } finally {
      await judge.dispose();
    }
  });

  it('CLI: omnicap cloze eval --judge local, then score', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cloze-local-cli-'));
    const out = path.join(dir, 'judged.jsonl');
    const r = await cli(['eval', '--input', FIX, '--output', out, '--judge', 'local']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(JSON.parse(r.out)).toMatchObject({ total: 4, judged: 4, failed: 0 });
    const s = await cli(['score', '--input', out, '--json', path.join(dir, 'r.json')]);
    expect(s.code).toBe(0);
    const rep = JSON.parse(readFileSync(path.join(dir, 'r.json'), 'utf8')) as { overall: { blanks: number; correct: number; notGiven: number; wrong: number } };
    expect(rep.overall.blanks).toBe(12);
    expect(rep.overall.correct + rep.overall.notGiven + rep.overall.wrong).toBe(rep.overall.blanks);
  });

  it('CLI: cloze build --llm local runs air-gapped and its quality gates judge every proposal', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cloze-local-build-'));
    const refs = path.join(dir, 'refs.jsonl');
    writeFileSync(refs, [
      { id: 'r1', caption: 'A man speaks calmly in a quiet room while a dog barks twice in the distance and rain falls on a metal roof.', domain: 'vlog', category: 'indoor' },
      { id: 'r2', caption: 'A woman plays a slow melody on a piano, then a phone rings and she stops playing.', domain: 'music', category: 'live performance' },
    ].map((o) => JSON.stringify(o)).join('\n') + '\n');
    const out = path.join(dir, 'bench.jsonl');
    const r = await cli(['build', '--input', refs, '--output', out, '--llm', 'local', '--seed', '1']);
    expect(r).toMatchObject({ code: 0, err: '' });
    const s = JSON.parse(r.out) as { references: number; built: number; drops: Record<string, number>; inputErrors: unknown[] };
    expect(s.references).toBe(2);
    expect(s.inputErrors).toEqual([]);
    // every reference either became a clip or was dropped by a named gate (a 270M base model mostly fails them)
    expect(s.built + s.drops.no_blanks_left).toBe(2);
    const built = existsSync(out) ? readFileSync(out, 'utf8').trim().split('\n').filter((l) => l.length > 0) : [];
    expect(built).toHaveLength(s.built);
  });

  it('CLI: bad judge flags are typed errors', async () => {
    await expect(cli(['eval', '--input', FIX, '--output', '/tmp/x.jsonl', '--judge', 'gpt'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(cli(['eval', '--input', FIX, '--output', '/tmp/x.jsonl', '--judge-gguf', '/nope.gguf'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(cli(['eval', '--input', FIX, '--output', '/tmp/x.jsonl', '--judge', 'local', '--judge-gguf', '/nope.gguf'])).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(cli(['build', '--input', FIX, '--output', '/tmp/x.jsonl', '--llm', 'gpt'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
