/**
 * The data side of annotation review: per-line read errors, the provenance contract checked
 * against the caption, the reviews journal (validation, latest decision per clip, a torn last
 * line after a crash) and `exportTrainingData({ reviewed })` choosing exactly the accepted and
 * edited clips.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ReviewJournal, exportTrainingData, latestReviewDecisions, parseAnnotationsForReview, reviewsPath } from '../../src/export';
import { OmnicapError } from '../../src/errors';
import { clip, tempDir } from '../media/helpers';
import { annotationRecord } from './record';

const SPEECH = clip('librivox-0880').path;
const CAP = 'A man speaks. A dog barks.';

describe('annotation review data', () => {
  const tmp = tempDir('omnicap-review-data-');
  afterAll(() => tmp.cleanup());

  test('every bad line is reported with its number; provenance is checked against the caption', () => {
    const ok = { id: 'a', status: 'ok', media: { path: SPEECH }, caption: CAP, provenance: [{ sentence: 'A man speaks.', start: 0, end: 13, supported: true, evidence: [{ round: 1, tool: 'asr', start_seconds: 0.2, text: 'he was' }] }] };
    const text = [
      JSON.stringify(ok),
      '{"id": 1,',
      JSON.stringify({ id: 'b', status: 'ok', media: { path: SPEECH }, caption: CAP, provenance: [{ sentence: 'x', start: 0, end: 99, supported: false, evidence: [] }] }),
      JSON.stringify({ id: 'c', status: 'weird', caption: CAP }),
      JSON.stringify({ id: 'a', status: 'ok', caption: CAP, media: { path: SPEECH } }),
      JSON.stringify({ id: 'e', status: 'error', media: { path: SPEECH }, error: { code: 'MEDIA_CORRUPT', message: 'bad file' } }),
    ].join('\n');
    const r = parseAnnotationsForReview(text);
    expect(r.errors.map((e) => e.line)).toEqual([2, 4, 5]);
    expect(r.errors[1].message).toBe('unknown status "weird"');
    expect(r.errors[2].message).toBe('clip a already appears on line 1');
    expect(r.clips.map((c) => c.key)).toEqual(['a', 'b', 'e']);
    expect(r.clips[0].provenance).toEqual([{ sentence: 'A man speaks.', start: 0, end: 13, supported: true, evidence: [{ round: 1, tool: 'asr', start_seconds: 0.2, text: 'he was' }] }]);
    expect(r.clips[1].provenance).toBeUndefined();
    expect(r.clips[1].provenanceError).toMatch(/offsets 0-99 are outside the caption \(26 characters\)/);
    expect(r.clips[2]).toMatchObject({ status: 'error', caption: '', error: { code: 'MEDIA_CORRUPT' } });
  });

  test('journal: validation, latest decision per clip, a torn last line cut off on reopen; export --reviewed', async () => {
    const input = join(tmp.dir, 'ann.jsonl');
    // whole records as `omnicap detect` writes them (export checks every line against the annotation schema)
    const media = { path: SPEECH, sha256: 'a'.repeat(64), duration_seconds: 3, has_audio: true, has_video: false };
    const record = (id: string): Record<string, unknown> => annotationRecord({ id, status: id === 'd' ? 'degraded' : 'ok', media, caption: `caption ${id}`, ...(id === 'd' ? { degraded_reasons: ['echo'] } : {}) });
    writeFileSync(input, ['a', 'b', 'c', 'd'].map((id) => JSON.stringify(record(id))).join('\n') + '\n');
    const file = reviewsPath(input);
    {
      await using j = await ReviewJournal.open(file);
      await expect(j.record({ clip: 'a', decision: 'reject', reviewer: 'r', before: 'caption a' })).rejects.toThrow(OmnicapError);
      await expect(j.record({ clip: 'a', decision: 'edit', caption: 'caption a', reviewer: 'r', before: 'caption a' })).rejects.toThrow('unchanged');
      await j.record({ clip: 'a', decision: 'reject', note: 'wrong', reviewer: 'r', before: 'caption a' });
      await j.record({ clip: 'a', decision: 'accept', reviewer: 'r', before: 'caption a' });
      await j.record({ clip: 'b', decision: 'edit', caption: 'better b', reviewer: 'r', before: 'caption b' });
      await j.record({ clip: 'c', decision: 'reject', note: 'no', reviewer: 'r', before: 'caption c' });
      await j.record({ clip: 'd', decision: 'accept', reviewer: 'r', before: 'caption d' });
    }
    appendFileSync(file, '{"clip": "c", "decision": "acc'); // a crash mid-append
    expect([...(await latestReviewDecisions(file)).values()].map((d) => [d.clip, d.decision])).toEqual([['a', 'accept'], ['b', 'edit'], ['c', 'reject'], ['d', 'accept']]);
    {
      await using j = await ReviewJournal.open(file);
      expect(j.latest.get('c')?.decision).toBe('reject');
    }
    expect(readFileSync(file, 'utf8').endsWith('}\n')).toBe(true);
    const out = join(tmp.dir, 'train.jsonl');
    const s = await exportTrainingData({ input, output: out, format: 'sharegpt', reviewed: true });
    expect(s).toMatchObject({ written: 3, degradedIncluded: 1, skipped: { rejected: 1 } });
    const recs = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; conversations: Array<{ value: string }> });
    expect(recs.map((x) => [x.id, x.conversations[1].value])).toEqual([['a', 'caption a'], ['b', 'better b'], ['d', 'caption d']]);
    await expect(exportTrainingData({ input: join(tmp.dir, 'none.jsonl'), output: out, format: 'sharegpt', reviewed: true })).rejects.toThrow('not found');
  });
});
