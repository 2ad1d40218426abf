/**
 * omnicap export: annotation lines (both detect formats) to ms-swift, LLaMA-Factory and ShareGPT
 * training records. Content, not shape: the caption text, the media tag and column by modality,
 * relative or absolute paths that resolve to the real clip, skip rules for error / degraded /
 * torn / duplicate lines, --include-degraded, and the dataset_info.json entry.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { exportTrainingData } from '../../src/export';
import { packageRoot } from '../../src/util/paths';
import { clip } from '../media/helpers';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const SPEECH = clip('librivox-0880');
const VIDEO = clip('video-av-mp4');
const CAP_SPEECH = 'A man reads aloud in a quiet room: "he was not an ill disposed young man". The level is moderate.';
const CAP_VIDEO = 'A video shows moving colour bars while a tone sounds.';

let dir: string;
let annotations: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'omnicap-export-'));
  annotations = join(dir, 'annotations.jsonl');
  const media = (p: string, video: boolean): Record<string, unknown> => ({ path: p, sha256: 'x', duration_seconds: 3, has_audio: true, has_video: video });
  const lines = [
    { id: 'speech', status: 'ok', media: media(SPEECH.path, false), caption: CAP_SPEECH },
    { id: 7, status: 'ok', media: media(VIDEO.path, true), caption: CAP_VIDEO },
    { id: 'weak', status: 'degraded', degraded_reasons: ['LLM caption rejected: grounding'], media: media(SPEECH.path, false), caption: 'Template caption of the weak clip.' },
    { id: 'bad', status: 'error', media: { path: '/nope.wav' }, error: { code: 'MEDIA_CORRUPT', message: 'x' } },
    { id: 'speech', status: 'ok', media: media(SPEECH.path, false), caption: 'a second line for the same clip' },
    // the reference Omni-Detective's output shape: caption JSON-encoded in the last assistant turn
    { id: 9, url: `file://${SPEECH.path}`, omni_detective_trajectory: [{ role: 'system', content: 's' }, { role: 'assistant', content: JSON.stringify('Reference-format caption of speech.') }] },
  ];
  writeFileSync(annotations, lines.map((l) => JSON.stringify(l)).join('\n') + '\n{"id": "torn", "status": "ok", "cap');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Msg {
  role: string;
  content: string;
}

describe('omnicap export', () => {
  it('ms-swift (CLI): messages with <audio>/<video>, the caption, relative paths that resolve to the clips; error, degraded, torn and duplicate lines skipped', () => {
    const outDir = join(dir, 'swift');
    mkdirSync(outDir);
    const out = join(outDir, 'train.jsonl');
    const r = spawnSync(process.execPath, [CLI, 'export', '--input', annotations, '--format', 'ms-swift', '--output', out], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stderr).toMatch(/export: 3 ms-swift examples to .*train\.jsonl; skipped: 1 degraded, 1 error, 1 duplicate, 1 invalid_json/);
    const recs = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { messages: Msg[]; audios?: string[]; videos?: string[] });
    expect(recs).toHaveLength(3); // speech, 7 (video), 9 (reference)
    expect(recs[0].messages).toEqual([
      { role: 'user', content: '<audio>Describe this audio clip in detail.' },
      { role: 'assistant', content: CAP_SPEECH },
    ]);
    expect(recs[0].audios).toHaveLength(1);
    expect(recs[0].audios![0].startsWith('/')).toBe(false);
    expect(resolve(outDir, recs[0].audios![0])).toBe(SPEECH.path);
    expect(recs[1].messages[0].content).toBe('<video>Describe this video clip in detail: what is seen and what is heard.');
    expect(recs[1].messages[1].content).toBe(CAP_VIDEO);
    expect(resolve(outDir, recs[1].videos![0])).toBe(VIDEO.path);
    expect(recs[1].audios).toBeUndefined();
    expect(recs[2].messages[1].content).toBe('Reference-format caption of speech.');
    const text = readFileSync(out, 'utf8');
    expect(text).not.toMatch(/Template caption|second line|MEDIA_CORRUPT/);
  });

  it('reports what it skipped, and --include-degraded keeps the degraded caption', async () => {
    const out = join(dir, 'swift-all.jsonl');
    const s = await exportTrainingData({ input: annotations, output: out, format: 'ms-swift', includeDegraded: true, paths: 'absolute' });
    expect(s).toMatchObject({ written: 4, degradedIncluded: 1, skipped: { error: 1, duplicate: 1, invalid_json: 1 } });
    const recs = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { messages: Msg[]; audios?: string[] });
    const weak = recs.find((r) => r.messages[1].content === 'Template caption of the weak clip.');
    expect(weak?.audios).toEqual([SPEECH.path]); // absolute paths as asked
    const strict = await exportTrainingData({ input: annotations, output: join(dir, 'strict.jsonl'), format: 'ms-swift' });
    expect(strict).toMatchObject({ written: 3, degradedIncluded: 0, skipped: { error: 1, degraded: 1, duplicate: 1, invalid_json: 1 } });
  });

  it('llamafactory: the records and a dataset_info.json entry with the columns and role/content tags (existing entries kept)', async () => {
    const dataDir = join(dir, 'lf');
    mkdirSync(dataDir);
    writeFileSync(join(dataDir, 'dataset_info.json'), JSON.stringify({ other: { file_name: 'other.json' } }));
    const s = await exportTrainingData({ input: annotations, output: join(dataDir, 'omni_captions.jsonl'), format: 'llamafactory', prompts: { system: 'You are a detailed captioner.' } });
    expect(s.written).toBe(3);
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
    expect(first.messages[2].content).toBe(CAP_SPEECH);
    expect(existsSync(resolve(dataDir, first.audios[0]))).toBe(true); // relative to dataset_dir
  });

  it('sharegpt: conversations with human/gpt turns, the id kept, paths relative to --base-dir; a missing output directory is created', async () => {
    const out = join(dir, 'new', 'nested', 'sharegpt.jsonl');
    await exportTrainingData({ input: annotations, output: out, format: 'sharegpt', baseDir: '/usr/share', prompts: { audio: 'Caption this recording.' } });
    const recs = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: unknown; conversations: Array<{ from: string; value: string }>; audios?: string[] });
    expect(recs.map((r) => r.id)).toEqual(['speech', 7, 9]);
    expect(recs[0].conversations).toEqual([
      { from: 'human', value: '<audio>Caption this recording.' },
      { from: 'gpt', value: CAP_SPEECH },
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
