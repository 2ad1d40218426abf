/**
 * The annotation-line schemas describe what `detect` really writes: a batch over real clips (the
 * signal observer, a scripted detective LLM) in both output formats validates line by line, and
 * the checks are not vacuous (a line with a field removed or added fails).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createToolbox, loadClips, runBatch, signalObserver } from '../../src/detective';
import { AnnotationLine, ReferenceAnnotationLine, checker } from '../../src/schema';
import { NOISE, SPEECH } from '../detective/media';
import { ScriptedChatModel } from '../detective/scripted-llm';

// signal gives a fixed report, gathered up front: the detective only decides to finish
const SCRIPT = ['{"action":"finish"}'];

type Line = Record<string, unknown>;

let dir: string;
const read = (file: string): Line[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnicap-annotation-'));
  writeFileSync(join(dir, 'clips.jsonl'), [{ id: 'speech', path: SPEECH, lang: 'en' }, { id: 7, path: NOISE }, { id: 'missing', path: join(dir, 'nope.wav') }].map((o) => JSON.stringify(o)).join('\n') + '\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function detect(format: 'omnicap' | 'reference'): Promise<string> {
  const output = join(dir, `${format}.jsonl`);
  const toolbox = createToolbox({ observers: [signalObserver()] });
  try {
    await runBatch({ clips: loadClips(join(dir, 'clips.jsonl')), output, llm: new ScriptedChatModel(SCRIPT, undefined, true), toolbox, seed: 5, rounds: 3, format });
  } finally {
    await toolbox.dispose();
  }
  return output;
}

test('--format omnicap: ok/degraded and error records match AnnotationLine', async () => {
  const check = checker(AnnotationLine);
  const lines = read(await detect('omnicap'));
  expect(lines.map((l) => l.id)).toEqual(expect.arrayContaining(['speech', 7, 'missing']));
  for (const line of lines) expect(() => check(line)).not.toThrow();
  const speech = lines.find((l) => l.id === 'speech') as { status: string; caption: string; input: { lang: string }; omni_detective_trajectory: unknown[]; seed: number };
  expect(['ok', 'degraded']).toContain(speech.status);
  expect(speech.caption.length).toBeGreaterThan(0);
  expect(speech.input.lang).toBe('en');
  expect(speech.omni_detective_trajectory).toEqual([expect.objectContaining({ status: 'ok', tool: 'signal', upfront: true, answer: expect.stringMatching(/\S/) })]);
  expect(speech.seed).toBe(5);
  const missing = lines.find((l) => l.id === 'missing') as { status: string; error: { code: string } };
  expect(missing).toMatchObject({ status: 'error', error: { code: 'MEDIA_NOT_FOUND' } });
  // not vacuous: a record without its caption, or with a field the schema does not name, fails
  const { caption: _caption, ...noCaption } = speech;
  expect(() => check(noCaption)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: expect.objectContaining({ parameter: 'caption' }) }));
  expect(() => check({ ...missing, caption: 'x' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', details: expect.objectContaining({ parameter: 'caption' }), message: 'unrecognized field caption' }));
});

test('--format reference: the input item plus the trajectory ending with the JSON-encoded caption', async () => {
  const check = checker(ReferenceAnnotationLine);
  const lines = read(await detect('reference'));
  expect(lines.map((l) => l.id).sort()).toEqual([7, 'speech'].sort()); // failed clips go to the .errors.jsonl side file
  for (const line of lines) expect(() => check(line)).not.toThrow();
  const speech = lines.find((l) => l.id === 'speech') as { lang: string; omni_detective_trajectory: Array<{ role: string; content: string }> };
  expect(speech.lang).toBe('en');
  const last = speech.omni_detective_trajectory[speech.omni_detective_trajectory.length - 1];
  expect(last.role).toBe('assistant');
  expect(typeof JSON.parse(last.content)).toBe('string');
  expect(() => check({ ...speech, omni_detective_trajectory: [{ role: 'robot', content: 'x' }] })).toThrow(expect.objectContaining({ details: expect.objectContaining({ parameter: 'omni_detective_trajectory[0].role' }) }));
});
