/**
 * QA files in the released shapes, written by hand after the published field lists: MMAU
 * test-mini (a pretty-printed JSON array) and MMAR-meta (JSONL), plus this project's layout.
 * Layout detection, media paths relative to the file, fields kept, broken items reported with
 * their line numbers and skipped.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { detectLayout, readQaFile, splitJsonArray } from '../../src/cascade/layout';

const dir = mkdtempSync(path.join(tmpdir(), 'cascade-layout-'));
const write = (name: string, text: string): string => {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
};

const mmauItems = [
  { id: 'm-1', audio_id: './test-mini-audios/m-1.wav', question: 'Based on the given audio, identify the source of the speaking voice.', choices: ['Man', 'Woman', 'Child', 'Robot'], answer: 'Man', dataset: 'AudioSet', task: 'sound', split: 'test-mini', category: 'Reasoning', 'sub-category': 'Acoustic Source Inference', difficulty: 'medium' },
  // MMAU writes a few categories as a one-element list and has items with a duplicated choice
  { id: 'm-2', audio_id: './test-mini-audios/m-2.wav', question: 'How many times does the bell ring?', choices: ['four', 'nine', 'fourteen', 'fourteen'], answer: 'nine', dataset: 'synthetic', task: 'sound', split: 'test-mini', category: ['Reasoning'], 'sub-category': 'Event-Based Sound Reasoning', difficulty: 'easy' },
  // broken: the answer is not a choice
  { id: 'm-3', audio_id: './test-mini-audios/m-3.wav', question: 'What genre is this?', choices: ['Jazz', 'Rock'], answer: 'Pop', dataset: 'MusicCaps', task: 'music', split: 'test-mini', category: 'Information Extraction', 'sub-category': 'Genre', difficulty: 'easy' },
  { id: 'm-4', audio_id: '/abs/clips/m-4.wav', question: 'What emotion does the speaker convey?', choices: ['Happy', 'Sad'], answer: 'Sad', dataset: 'MELD', task: 'speech', split: 'test-mini', category: 'Reasoning', 'sub-category': 'Emotion', difficulty: 'hard' },
];

describe('MMAU test-mini (JSON array)', () => {
  test('items with their first line, paths relative to the file, task as modality, every field kept', async () => {
    const text = JSON.stringify(mmauItems, null, 4);
    const f = write('mmau-test-mini.json', text);
    expect(detectLayout(text)).toBe('mmau');
    const qa = await readQaFile(f);
    expect(qa.layout).toBe('mmau');
    expect(qa.items.map((i) => i.id)).toEqual(['m-1', 'm-2', 'm-4']);
    const [a, b, c] = qa.items;
    expect(a).toMatchObject({ line: 2, media: path.join(dir, 'test-mini-audios', 'm-1.wav'), modality: 'sound', category: 'Reasoning', subCategory: 'Acoustic Source Inference', answer: 'Man', answerIndex: 0 });
    expect(a.item).toMatchObject({ dataset: 'AudioSet', difficulty: 'medium', split: 'test-mini' });
    expect(b).toMatchObject({ category: 'Reasoning', answerIndex: 1, choices: ['four', 'nine', 'fourteen', 'fourteen'] });
    expect(c).toMatchObject({ media: '/abs/clips/m-4.wav', modality: 'speech' });
    // the broken item is reported at the line of its opening brace (the line before its "id")
    const at = text.split('\n').findIndex((l) => l.includes('"id": "m-3"'));
    expect(at).toBe(40);
    expect(qa.errors).toEqual([{ line: at, code: 'INVALID_ARGUMENT', message: `line ${at}: question m-3: the answer "Pop" is not one of the choices` }]);
  });

  test('a truncated or damaged array: the good items are read, the bad one is reported', async () => {
    const good = JSON.stringify(mmauItems.slice(0, 2), null, 2);
    const damaged = `${good.slice(0, -2)},\n  {"id": "m-9", "audio_id": "x.wav", "question": "q", "choices": ["a", "b"], "answer": "a"\n`; // no closing brackets
    expect(splitJsonArray(damaged)).toHaveLength(3);
    const qa = await readQaFile(write('damaged.json', damaged), 'mmau');
    expect(qa.items.map((i) => i.id)).toEqual(['m-1', 'm-2']);
    expect(qa.errors).toHaveLength(1);
    expect(qa.errors[0].message).toMatch(/^line \d+: not valid JSON/);
    expect(qa.errors[0].line).toBe(damaged.slice(0, damaged.indexOf('{"id": "m-9"')).split('\n').length);
  });
});

describe('MMAR-meta (JSONL)', () => {
  const line = (o: Record<string, unknown>): string => JSON.stringify(o);
  const mmar = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id, audio_path: `./audio/${id}.wav`, question: 'What type of natural environment might this music originate from', choices: ['Mountain Canyon', 'Dense Forest', 'Open Grassland', 'City Streets'], answer: 'Open Grassland',
    modality: 'music', category: 'Cultural Layer', 'sub-category': 'Professional Knowledge and Reasoning', language: null, source: 'youtube', url: 'https://example.invalid/v', timestamp: '00:01:32,00:02:02',
    thinking: 'throat singing carries over open land', cue: ['Throat Singing'], rubric: [{ name: 'Cue', choices: [0, 1] }], ...extra,
  });

  test('detected, parsed, broken and unknown lines reported with their line numbers', async () => {
    const text = [
      line(mmar('qx8h_00-01-32')),
      '{"id": "broken", "audio_path": ',
      line(mmar('two-choice', { choices: ['Yes', 'No'], answer: 'No', modality: 'mix-sound-speech', category: 'Semantic Layer', 'sub-category': 'Speaker Analysis' })),
      '',
      line({ note: 'not a question at all' }),
      line(mmar('qx8h_00-01-32')),
      line(mmar('no-choices', { choices: ['Only one'] })),
    ].join('\n') + '\n';
    expect(detectLayout(text)).toBe('mmar');
    const f = write('MMAR-meta.jsonl', text);
    const qa = await readQaFile(f);
    expect(qa.layout).toBe('mmar');
    expect(qa.items.map((i) => [i.id, i.line, i.modality, i.category, i.subCategory])).toEqual([
      ['qx8h_00-01-32', 1, 'music', 'Cultural Layer', 'Professional Knowledge and Reasoning'],
      ['two-choice', 3, 'mix-sound-speech', 'Semantic Layer', 'Speaker Analysis'],
    ]);
    expect(qa.items[0].media).toBe(path.join(dir, 'audio', 'qx8h_00-01-32.wav'));
    expect(qa.items[0].item).toMatchObject({ thinking: 'throat singing carries over open land', cue: ['Throat Singing'], timestamp: '00:01:32,00:02:02' });
    expect(qa.errors.map((e) => e.line)).toEqual([2, 5, 6, 7]);
    expect(qa.errors[0].message).toMatch(/^line 2: not valid JSON/);
    expect(qa.errors[1].message).toMatch(/^line 5: "id" must be a non-empty string/);
    expect(qa.errors[2].message).toBe('line 6: duplicate question id "qx8h_00-01-32"');
    expect(qa.errors[3].message).toMatch(/^line 7: question no-choices: "choices" must be an array of at least 2 strings/);
  });

  test('--layout forces a layout: MMAR lines read as MMAU lack audio_id', async () => {
    const f = write('forced.jsonl', line(mmar('a')) + '\n');
    const qa = await readQaFile(f, 'mmau');
    expect(qa.items).toEqual([]);
    expect(qa.errors[0].message).toMatch(/needs a media path in "audio_id"/);
  });
});

describe("this project's layout", () => {
  test('path or audio_path, answer as text or letter, sub_category spelling, number ids', async () => {
    const f = write('own.jsonl', [
      JSON.stringify({ id: 7, path: 'clips/a.wav', question: 'Which card?', choices: ['ten of clubs', 'ace of spades'], answer: 'B', modality: 'speech', sub_category: 'cards' }),
      JSON.stringify({ id: 'x', audio_path: 'b.wav', question: 'Loud?', choices: ['Yes', 'No'], answer: 'yes' }),
    ].join('\n'));
    const qa = await readQaFile(f);
    expect(qa.layout).toBe('omnicap');
    expect(qa.errors).toEqual([]);
    expect(qa.items[0]).toMatchObject({ id: '7', media: path.join(dir, 'clips', 'a.wav'), answer: 'ace of spades', answerIndex: 1, subCategory: 'cards', category: 'unknown' });
    expect(qa.items[1]).toMatchObject({ answer: 'yes', answerIndex: 0, modality: 'unknown' });
  });

  test('a missing file is NOT_FOUND', async () => {
    await expect(readQaFile(path.join(dir, 'nope.jsonl'))).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
