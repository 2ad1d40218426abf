/**
 * The cascade with the embedded local instruct model as the answerer (Qwen2.5-Coder-1.5B-Instruct
 * Q4_K_M GGUF via node-llama-cpp, grammar-constrained to one letter): on six questions of the
 * fixture set (speech, a count, two sound effects, music, on-screen text) the truth captions must
 * lead it to the right choice. Measured numbers for the whole set are in docs/cascade.md.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { CascadeRecord } from '../../src/cascade/eval';
import { parseCascadeLine } from '../../src/cascade/score';
import { DEFAULT_LOCAL_MODEL_ID } from '../../src/llm/local';
import { cli } from './cli';

const FIX = path.join(__dirname, '..', 'fixtures', 'cascade');
const PICK = ['omq-01', 'omq-04', 'omq-10', 'omq-12', 'omq-17', 'omq-20'];

describe('cascade eval with the embedded local answerer', () => {
  it('answers from the truth captions', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cascade-local-'));
    // the subset is written elsewhere, so its media paths are made absolute
    const lines = readFileSync(path.join(FIX, 'qa-mmar.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; audio_path: string });
    const qa = path.join(dir, 'qa.jsonl');
    writeFileSync(qa, lines.filter((l) => PICK.includes(l.id)).map((l) => JSON.stringify({ ...l, audio_path: path.resolve(FIX, l.audio_path) })).join('\n') + '\n');
    const out = path.join(dir, 'out.jsonl');
    const r = await cli(['eval', '--input', qa, '--captions', path.join(FIX, 'captions-truth.jsonl'), '--output', out, '--answerer', 'local', '--no-progress']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toMatchObject({ questions: 6, answered: 6, errors: 0 });
    const recs = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as CascadeRecord);
    for (const rec of recs) {
      expect(rec.cascade).toMatchObject({ status: 'ok', model: DEFAULT_LOCAL_MODEL_ID, seed: 0 });
      // the grammar allows exactly {"answer": "<letter>"}
      expect(rec.cascade.raw).toMatch(/^\{\s*"answer"\s*:\s*"[A-D]"\s*\}$/);
    }
    const right = recs.map(parseCascadeLine).filter((x) => x.prediction === x.answer).map((x) => x.id);
    expect(right.length).toBeGreaterThanOrEqual(5);
  }, 900_000);
});
