/**
 * omnicap export: annotation lines (both detect formats, written by a real detect batch over real
 * clips) to ms-swift, LLaMA-Factory and ShareGPT training records. Content, not shape: the caption
 * text, the media tag and column by modality, relative or absolute paths that resolve to the real
 * clip, skip rules for error / degraded / torn / duplicate lines, --include-degraded, the
 * dataset_info.json entry, and lines that fail the annotation schema: each rejected with its line
 * number and code while the good lines around it are exported (exit code 1).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createToolbox, loadClips, runBatch, signalObserver } from '../../src/detective';
import { exportTrainingData } from '../../src/export';
import { packageRoot } from '../../src/util/paths';
import { ScriptedChatModel } from '../detective/scripted-llm';
import { clip, tempDir } from '../media/helpers';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const SPEECH = clip('librivox-0880');
const VIDEO = clip('video-av-mp4');

type Line = Record<string, unknown>;

const { dir, cleanup } = tempDir('omnicap-export-');
let annotations: string;
/** The real detect lines the file is made of. */
let speech: Line & { caption: string };
let video: Line & { caption: string };
/** The caption of the reference-format line (its last assistant turn, JSON-encoded). */
let referenceCaption: string;

/** A real `omnicap detect` batch (the signal observer, a scripted detective LLM) in one output format. */
async function detect(clips: Line[], format: 'omnicap' | 'reference'): Promise<Line[]> {
  const input = join(dir, `clips-${format}.jsonl`);
  const output = join(dir, `detect-${format}.jsonl`);
  writeFileSync(input, clips.map((c) => JSON.stringify(c)).join('\n') + '\n');
  const toolbox = createToolbox({ observers: [signalObserver()] });
  try {
    await runBatch({ clips: loadClips(input), output, llm: new ScriptedChatModel(['{"action":"finish"}'], undefined, true), toolbox, rounds: 2, format });
  } finally {
    await toolbox.dispose();
  }
  return readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
}

/** A detect line as a clean `ok` record (the status a real run gives depends on the scripted caption's checks). */
const asOk = ({ degraded_reasons: _reasons, ...l }: Line): Line & { caption: string } => ({ ...l, status: 'ok', caption: String(l.caption) });

beforeAll(async () => {
  const omnicap = await detect([{ id: 'speech', path: SPEECH.path }, { id: 7, path: VIDEO.path }, { id: 'missing', path: join(dir, 'nope.wav') }], 'omnicap');
  const byId = (id: unknown): Line => omnicap.find((l) => l.id === id)!;
  speech = asOk(byId('speech'));
  video = asOk(byId(7));
  const [reference] = await detect([{ id: 9, path: SPEECH.path }], 'reference');
  const turns = reference.omni_detective_trajectory as Array<{ role: string; content: string }>;
  referenceCaption = JSON.parse(turns[turns.length - 1].content) as string;
  const { caption: _caption, ...noCaption } = speech;
  const lines = [
    speech, // 1
    video, // 2
    { ...speech, id: 'weak', status: 'degraded', degraded_reasons: ['LLM caption rejected: grounding'], caption: 'Template caption of the weak clip.' }, // 3
    byId('missing'), // 4: status error
    { ...speech, caption: 'a second line for the same clip' }, // 5: duplicate id
    reference, // 6: --format reference
    noCaption, // 7: rejected, no caption
    '{oops', // 8: rejected, not JSON
    { ...speech, id: 'extra', score: 1 }, // 9: rejected, a field the schema does not name
    { ...reference, id: 'robot', omni_detective_trajectory: [{ role: 'robot', content: 'x' }] }, // 10: rejected, bad role
    { ...speech, id: 'after' }, // 11: a good line after the bad ones
  ];
  annotations = join(dir, 'annotations.jsonl');
  writeFileSync(annotations, lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n{"id": "torn", "status": "ok", "cap');
});
afterAll(cleanup);

const REJECTED = [
  { line: 7, code: 'INVALID_ARGUMENT', message: 'line 7: Expected a string for caption but received undefined' },
  { line: 8, code: 'INVALID_ARGUMENT', message: expect.stringMatching(/^line 8: not valid JSON/) },
  { line: 9, code: 'INVALID_ARGUMENT', message: 'line 9: unrecognized field score' },
  { line: 10, code: 'INVALID_ARGUMENT', message: 'line 10: Expected one of system, user, assistant for omni_detective_trajectory[0].role but received string "robot"' },
];

interface Msg {
  role: string;
  content: string;
}

describe('omnicap export', () => {
  it('ms-swift (CLI): messages with <audio>/<video>, the caption, relative paths that resolve to the clips; error, degraded, torn and duplicate lines skipped; bad lines listed, exit code 1', () => {
    const outDir = join(dir, 'swift');
    mkdirSync(outDir);
    const out = join(outDir, 'train.jsonl');
    const r = spawnSync(process.execPath, [CLI, 'export', '--input', annotations, '--format', 'ms-swift', '--output', out], { encoding: 'utf8' });
    expect(r.status).toBe(1); // some lines failed
    expect(r.stderr).toMatch(/export: 4 ms-swift examples to .*train\.jsonl; skipped: 1 torn_last_line, 1 degraded, 1 error, 1 duplicate; 4 lines rejected \(not exported\)/);
    for (const x of REJECTED) if (typeof x.message === 'string') expect(r.stderr).toContain(`${annotations}: ${x.code}: ${x.message}\n`);
    expect(r.stderr).toContain(`${annotations}: INVALID_ARGUMENT: line 8: not valid JSON`);
    const recs = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { messages: Msg[]; audios?: string[]; videos?: string[] });
    expect(recs).toHaveLength(4); // speech, 7 (video), 9 (reference), after
    expect(recs[0].messages).toEqual([
      { role: 'user', content: '<audio>Describe this audio clip in detail.' },
      { role: 'assistant', content: speech.caption },
    ]);
    expect(recs[0].audios).toHaveLength(1);
    expect(recs[0].audios![0].startsWith('/')).toBe(false);
    expect(resolve(outDir, recs[0].audios![0])).toBe(SPEECH.path);
    expect(recs[1].messages[0].content).toBe('<video>Describe this video clip in detail: what is seen and what is heard.');
    expect(recs[1].messages[1].content).toBe(video.caption);
    expect(resolve(outDir, recs[1].videos![0])).toBe(VIDEO.path);
    expect(recs[1].audios).toBeUndefined();
    expect(recs[2].messages[1].content).toBe(referenceCaption);
    expect(recs[3].messages[1].content).toBe(speech.caption); // the good line after the bad ones
    const text = readFileSync(out, 'utf8');
    expect(text).not.toMatch(/Template caption|second line|MEDIA_NOT_FOUND|robot/);
  });

  it('reports what it skipped and rejected, and --include-degraded keeps the degraded caption', async () => {
    const out = join(dir, 'swift-all.jsonl');
    const s = await exportTrainingData({ input: annotations, output: out, format: 'ms-swift', includeDegraded: true, paths: 'absolute' });
    expect(s).toMatchObject({ written: 5, degradedIncluded: 1, skipped: { error: 1, duplicate: 1, torn_last_line: 1 } });
    expect(s.rejected).toEqual(REJECTED);
    const recs = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { messages: Msg[]; audios?: string[] });
    const weak = recs.find((r) => r.messages[1].content === 'Template caption of the weak clip.');
    expect(weak?.audios).toEqual([SPEECH.path]); // absolute paths as asked
    const strict = await exportTrainingData({ input: annotations, output: join(dir, 'strict.jsonl'), format: 'ms-swift' });
    expect(strict).toMatchObject({ written: 4, degradedIncluded: 0, skipped: { error: 1, degraded: 1, duplicate: 1, torn_last_line: 1 } });
    expect(strict.rejected.map((x) => x.line)).toEqual([7, 8, 9, 10]);
  });

  it('a file of good lines only exports them all and exits 0', () => {
    const good = join(dir, 'good.jsonl');
    writeFileSync(good, `${JSON.stringify(speech)}\n${JSON.stringify(video)}\n`);
    const r = spawnSync(process.execPath, [CLI, 'export', '--input', good, '--format', 'sharegpt', '--output', join(dir, 'good-out.jsonl')], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/export: 2 sharegpt examples to \S+; skipped: none\n/);
    expect(r.stderr).not.toContain('rejected');
    expect(r.status).toBe(0);
  });

  it('llamafactory: the records and a dataset_info.json entry with the columns and role/content tags (existing entries kept)', async () => {
    const dataDir = join(dir, 'lf');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'dataset_info.json'), JSON.stringify({ other: { file_name: 'other.json' } }));
    const s = await exportTrainingData({ input: annotations, output: join(dataDir, 'omni_captions.jsonl'), format: 'llamafactory', prompts: { system: 'You are a detailed captioner.' } });
    expect(s.written).toBe(4);
    const info = JSON.parse(readFileSync(join(dataDir, 'dataset_info.json'), 'utf8')) as Record<string, unknown>;
    expect(info.other).toEqual({ file_name: 'other.json' });
    expect(info.omni_captions).toEqual({
      file_name: 'omni_captions.jsonl',
      formatting: 'sharegpt',
      columns: { messages: 'messages', audios: 'audios', videos: 'videos' },
      tags: { role_tag: 'role', content_tag: 'content', user_tag: 'user', assistant_tag: 'assistant', system_tag: 'system' },
    });
    const first = JSON.parse(readFileSync(join(dataDir, 'omni_captions.jsonl'), 'utf8').split('\n')[0]) as { messages: Msg[]; audios: string[] };
    expect(first.messages[0]).toEqual({ role: 'system', content: 'You are a detailed captioner.' });
    expect(first.messages[2].content).toBe(speech.caption);
    expect(existsSync(resolve(dataDir, first.audios[0]))).toBe(true); // relative to dataset_dir
  });

  it('sharegpt: conversations with human/gpt turns, the id kept, paths relative to --base-dir; a missing output directory is created', async () => {
    const out = join(dir, 'new', 'nested', 'sharegpt.jsonl');
    await exportTrainingData({ input: annotations, output: out, format: 'sharegpt', baseDir: '/usr/share', prompts: { audio: 'Caption this recording.' } });
    const recs = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: unknown; conversations: Array<{ from: string; value: string }>; audios?: string[] });
    expect(recs.map((r) => r.id)).toEqual(['speech', 7, 9, 'after']);
    expect(recs[0].conversations).toEqual([
      { from: 'human', value: '<audio>Caption this recording.' },
      { from: 'gpt', value: speech.caption },
    ]);
    expect(resolve('/usr/share', recs[0].audios![0])).toBe(SPEECH.path);
  });

  it('refuses an unknown format with a clear message', () => {
    let err = '';
    try {
      execFileSync(process.execPath, [CLI, 'export', '--input', annotations, '--format', 'alpaca', '--output', join(dir, 'x.jsonl')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      err = String((e as { stderr?: string }).stderr);
    }
    expect(err).toMatch(/--format expects sharegpt, ms-swift, llamafactory but received "alpaca"/);
  });
});
