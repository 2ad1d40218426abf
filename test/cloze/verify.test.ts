/**
 * Cloze verification data: the released-layout writer is the inverse of the loader, a verified
 * clip keeps accepted and edited blanks (renumbered; the others filled in with their answer), and
 * edits are checked (four distinct texts, none "not given").
 */
import { join } from 'node:path';
import { ClozeVerifyJournal, blankKey, parseClip, releasedLine, verifiedClip, type BlankDecision, type ClozeClip } from '../../src/cloze';
import { tempDir } from '../media/helpers';

const CLIP: ClozeClip = {
  id: 'k1',
  domain: 'speech',
  category: 'reading',
  passage: 'A [BLANK_1] reads in a [BLANK_2] while [BLANK_3] falls.',
  blanks: [
    { id: '1', options: { A: 'man', B: 'woman', C: 'child', D: 'robot', E: 'not given' }, answer: 'B', modality: 'audio', category: 'speaker' },
    { id: '2', options: { A: 'kitchen', B: 'stadium', C: 'library', D: 'forest', E: 'not given' }, answer: 'C', modality: 'visual' },
    { id: '3', options: { A: 'rain', B: 'hail', C: 'snow', D: 'sand', E: 'not given' }, answer: 'A', modality: 'audio' },
  ],
};

const d = (blank: string, decision: BlankDecision['decision'], extra: Partial<BlankDecision> = {}): [string, BlankDecision] => [blankKey('k1', blank), { clip: 'k1', blank, decision, reviewer: 'r', time: 't', before: { answer: '', distractors: [] }, ...extra }];

describe('cloze verification', () => {
  test('released layout round trip through the loader', () => {
    expect(parseClip(JSON.parse(JSON.stringify(releasedLine(CLIP))))).toEqual(CLIP);
  });

  test('verified clip: rejected and undecided blanks filled in, the rest renumbered, edits applied', () => {
    const v = verifiedClip(CLIP, new Map([d('1', 'reject', { note: 'x' }), d('2', 'edit', { answer: 'reading room', distractors: ['hall', 'garden', 'car'] })]));
    expect(v?.passage).toBe('A woman reads in a [BLANK_1] while rain falls.');
    expect(v?.blanks).toEqual([{ id: '1', options: { A: 'hall', B: 'garden', C: 'reading room', D: 'car', E: 'not given' }, answer: 'C', modality: 'visual' }]);
    expect(verifiedClip(CLIP, new Map([d('3', 'reject', { note: 'x' })]))).toBeUndefined();
  });

  test('edits are checked before they are journaled', async () => {
    const tmp = tempDir('omnicap-verify-');
    try {
      await using j = await ClozeVerifyJournal.open(join(tmp.dir, 'c.jsonl.reviews.jsonl'));
      await expect(j.record(CLIP.blanks[0], { clip: 'k1', decision: 'edit', answer: 'woman', distractors: ['man', 'MAN', 'robot'], reviewer: 'r' })).rejects.toThrow('four different texts');
      await expect(j.record(CLIP.blanks[0], { clip: 'k1', decision: 'edit', answer: 'woman', distractors: ['man', 'child', 'Not given'], reviewer: 'r' })).rejects.toThrow('four different texts');
      await expect(j.record(CLIP.blanks[0], { clip: 'k1', decision: 'edit', answer: 'woman', distractors: ['man', 'child', 'robot'], reviewer: 'r' })).rejects.toThrow('nothing was changed');
      const rec = await j.record(CLIP.blanks[0], { clip: 'k1', decision: 'edit', answer: ' girl ', distractors: ['man', 'child', 'robot'], reviewer: 'r' });
      expect(rec).toMatchObject({ answer: 'girl', before: { answer: 'woman', distractors: ['man', 'child', 'robot'] } });
    } finally {
      tmp.cleanup();
    }
  });
});
