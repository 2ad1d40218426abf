import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runClozeBuild, passageReads } from '../../src/cloze/build';
import { normalizeText } from '../../src/cloze/support';
import { parseClip } from '../../src/cloze/format';
import { listenLoopback } from '../loopback';
import { cli } from './cli';
import { ScriptedBuilder } from './scripted-builder';

describe('cloze build', () => {
  test('gates drop exactly the bad blanks and the output is a valid benchmark', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cloze-build-'));
    const input = path.join(dir, 'refs.jsonl');
    const output = path.join(dir, 'bench.jsonl');
    const capA = 'A red car drives past while a dog barks twice and a woman shouts hello, and the dog barks again near a bakery.';
    const capB = 'Drum solo.';
    writeFileSync(input, [
      JSON.stringify({ id: 'r1', caption: capA, domain: 'street', category: 'traffic' }),
      JSON.stringify({ id: 'r2', caption: capB, domain: 'music', category: 'solo' }),
      '{"id": 3}',
    ].join('\n') + '\n');
    const llm = new ScriptedBuilder({
      'drives past': {
        blanks: [
          { span: 'red', category: 'colour', modality: 'visual' },
          { span: 'dog barks', category: 'sound event', modality: 'audio' }, // also appears later in its sentence: leaks
          { span: 'hello', category: 'speech', modality: 'audio' },
          { span: 'purple bus', category: 'object', modality: 'visual' }, // not in caption
          { span: 'red car', category: 'object', modality: 'visual' }, // overlaps "red"
          { span: 'bakery', category: 'place', modality: 'vision' },
          { span: 'woman', category: 'person', modality: 'smell' }, // invalid modality
        ],
        distractors: { red: ['blue', 'green', 'white'], 'dog barks': ['cat meows', 'bird sings', 'horn honks'], hello: ['goodbye', 'Hello!', 'thanks'], bakery: ['bank', 'school'] },
      },
      'solo': { blanks: [{ span: 'drum', category: 'instrument', modality: 'audio' }], distractors: { drum: ['piano', 'flute', 'harp'] } },
    });
    const s = await runClozeBuild({ input, output, llm, seed: 1 });
    expect(s.inputErrors).toHaveLength(1);
    expect(s.drops).toMatchObject({ answer_not_in_caption: 1, overlapping_span: 1, bad_llm_output: 1, duplicate_options: 1, not_four_distinct: 1, answerable_without_caption: 1, passage_unreadable: 1 });
    expect(s.built).toBe(1);
    const lines = readFileSync(output, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    const clip = parseClip(JSON.parse(lines[0]));
    expect(clip.passage).toBe('A [BLANK_1] car drives past while a dog barks twice and a woman shouts hello, and the dog barks again near a bakery.');
    expect(clip.blanks).toHaveLength(1);
    const b = clip.blanks[0];
    expect(b.options[b.answer]).toBe('red');
    expect(b.options.E).toBe('not given');
    expect(new Set(Object.values(b.options).map(normalizeText)).size).toBe(5);
    // resume: nothing is rebuilt
    const again = await runClozeBuild({ input, output, llm, seed: 1 });
    expect(again).toMatchObject({ built: 0, skipped: 1 });
  });

  test('readability gate', () => {
    expect(passageReads('A [BLANK_1] car drives past a house.')).toBe(true);
    expect(passageReads('A [BLANK_1] [BLANK_2] drives.')).toBe(false);
    expect(passageReads('[BLANK_1] solo.')).toBe(false);
  });
});

describe('cloze build CLI through OpenAIChatModel and a loopback server', () => {
  test('builds a valid benchmark line from a reference caption', async () => {
    const express = (await import('express')).default;
    const builder = new ScriptedBuilder({
      'small kitchen': {
        blanks: [
          { span: 'kettle', category: 'object', modality: 'audio-visual' },
          { span: 'STEAM', category: 'object', modality: 'visual' },
        ],
        distractors: { kettle: ['toaster', 'blender', 'microwave'], steam: ['smoke', 'dust', 'water'] },
      },
    });
    const app = express();
    app.use(express.json());
    app.post('/v1/chat/completions', async (req, res) => {
      const r = await builder.chat((req.body as { messages: Array<{ role: 'user'; content: string }> }).messages);
      res.json({ model: 'builder', choices: [{ message: { role: 'assistant', content: r.text }, finish_reason: 'stop' }] });
    });
    const endpoint = await listenLoopback(app);
    try {
      const dir = mkdtempSync(path.join(tmpdir(), 'cloze-build-cli-'));
      writeFileSync(path.join(dir, 'refs.jsonl'), JSON.stringify({ id: 'k1', caption: 'In a small kitchen the kettle whistles loudly as steam rises over the stove.', domain: 'vlog' }) + '\n');
      const { code, out } = await cli(['build', '--input', path.join(dir, 'refs.jsonl'), '--output', path.join(dir, 'bench.jsonl'), '--llm-url', endpoint.url, '--llm-model', 'builder', '--seed', '2']);
      expect(code).toBe(0);
      expect(JSON.parse(out)).toMatchObject({ built: 1, blanksKept: 2 });
      const clip = parseClip(JSON.parse(readFileSync(path.join(dir, 'bench.jsonl'), 'utf8')));
      expect(clip.passage).toBe('In a small kitchen the [BLANK_1] whistles loudly as [BLANK_2] rises over the stove.');
      // the answer is the caption's own text (case preserved), placed at a seeded letter
      expect(clip.blanks.map((b) => b.options[b.answer])).toEqual(['kettle', 'steam']);
      expect(clip.blanks.map((b) => b.modality)).toEqual(['audio-visual', 'visual']);
    } finally {
      await endpoint.close();
    }
  });
});
