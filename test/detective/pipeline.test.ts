/** The product path on real clips: real decode, real PocketSphinx/Tesseract/Silero VAD, real batch I/O. */
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asrObserver, createToolbox, defaultSileroPath, loadClips, ocrObserver, runBatch, signalObserver, vadObserver, type DetectiveToolbox } from '../../src/detective';
import { packageRoot } from '../../src/util/paths';
import { existsSync } from 'node:fs';
import { ScriptedChatModel } from './scripted-llm';
import { makeTextVideo, NOISE, OCR_TEXT, SPEECH, SPEECH_TEXT } from './media';

const MUSIC = join(packageRoot(), 'test', 'media', 'cache', 'lena', 'lena.mp3'); // npm audio-lena
const SFX = '/usr/share/sounds/freedesktop/stereo/camera-shutter.oga'; // Debian sound-theme-freedesktop

const SCRIPT = [
  '{"tool":"asr","question":"What words are spoken?"}',
  '{"tool":"ocr","question":"What text is on screen?"}',
  '{"tool":"signal","question":"How loud and how clean is the audio?"}',
  '{"tool":"vad","question":"Where is speech?"}',
  '{"action":"finish"}',
];

const dir = mkdtempSync(join(tmpdir(), 'det-pipe-'));
let video = '';
const toolbox = (cacheDir?: string): DetectiveToolbox => createToolbox({ observers: [asrObserver(), ocrObserver(), signalObserver(), vadObserver()], cacheDir });
interface Row {
  id: string;
  status: string;
  caption: string;
  error: { code: string };
  omni_detective_trajectory: Array<{ tool?: string; status: string; cached?: boolean; upfront?: boolean; data: { transcript: string; totals: { speech: number; music: number; noise: number; sound: number; silence: number } } }>;
  prompts: Array<{ sha256: string }>;
  observers_offered: string[];
  tokens: { prompt: number };
  llm_calls: number;
}
const lines = (file: string): Row[] => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Row);

beforeAll(async () => {
  expect(existsSync(defaultSileroPath())).toBe(true); // installed by scripts/setup-models.sh
  video = await makeTextVideo(dir);
  copyFileSync(SPEECH, join(dir, 'speech.wav'));
  copyFileSync(NOISE, join(dir, 'noise.wav'));
  writeFileSync(join(dir, 'corrupt.wav'), Buffer.concat([Buffer.from('RIFF\x00\x00\x00\x00WAVEjunk'), Buffer.alloc(500, 7)]));
  writeFileSync(
    join(dir, 'clips.jsonl'),
    [
      { id: 'speech', path: 'speech.wav' },
      { id: 'video', path: video },
      { id: 'noise', path: 'noise.wav' },
      { id: 'music', path: MUSIC },
      { id: 'sfx', path: SFX },
      { id: 'missing', path: 'nope.wav' },
      { id: 'corrupt', path: 'corrupt.wav' },
    ].map((o) => JSON.stringify(o)).join('\n') + '\n',
  );
});

const llm = (): ScriptedChatModel => new ScriptedChatModel(SCRIPT, undefined, true);

describe('detect batch on real clips', () => {
  const out = join(dir, 'out.jsonl');
  const cache = join(dir, 'cache');

  it('captions carry the ASR words and the OCR text; bad clips are reported per clip; resume and cache work', async () => {
    await using tb = toolbox(cache); // disposed even when an assertion fails (no Whisper process left behind)
    const progress: string[] = [];
    const stream = { write: (s: string) => progress.push(s) } as unknown as NodeJS.WritableStream;
    const clips = loadClips(join(dir, 'clips.jsonl'));
    const s1 = await runBatch({ clips, output: out, llm: llm(), toolbox: tb, workers: 2, seed: 3, progress: stream, rounds: 5 });
    expect(s1).toMatchObject({ total: 7, skipped: 0, ok: 5, errors: 2 });
    expect(progress.join('')).toMatch(/7\/7 clips, 2 errors, \d+ rounds, [0-9.]+ clips\/min, elapsed \S+, ETA/);
    const byId = Object.fromEntries(lines(out).map((l) => [l.id, l]));
    expect(Object.keys(byId).sort()).toEqual(['corrupt', 'missing', 'music', 'noise', 'sfx', 'speech', 'video']);

    const speech = byId.speech;
    expect(speech.status).toBe('ok');
    for (const w of ['young', 'man']) expect(speech.caption.toLowerCase()).toContain(w);
    const asr = speech.omni_detective_trajectory.find((r) => r.tool === 'asr')!;
    const overlap = SPEECH_TEXT.split(' ').filter((w) => asr.data.transcript.toLowerCase().split(' ').includes(w));
    expect(overlap.length).toBeGreaterThanOrEqual(5);
    // OCR cannot perceive an audio-only clip: it is not offered; the fixed reports are gathered up
    // front, once each, and no decision round is needed
    expect(speech.observers_offered).toEqual(['asr', 'signal', 'vad']);
    expect(speech.omni_detective_trajectory.map((r) => [r.tool, r.upfront])).toEqual([['asr', true], ['signal', true], ['vad', true]]);
    expect(speech.llm_calls).toBe(1);
    expect(byId.video.observers_offered).toEqual(['asr', 'ocr', 'signal', 'vad']);
    expect(speech.caption).toContain('LUFS');
    // the storyline tells the speech once, with its span, as the recognised words
    expect(speech.caption).toMatch(/From [0-9.]+ to [0-9.]+ s a voice says in English: "He was not an ill-disposed young man\."/);
    expect(speech).toMatchObject({ seed: 3, prompt_version: 'v5', models: { detective: 'scripted-test-llm' }, tool_calls: { asr: 1, signal: 1, vad: 1 } });
    expect(speech.prompts).toHaveLength(5);
    expect(speech.tokens.prompt).toBeGreaterThan(0);

    const v = byId.video;
    expect(v.status).toBe('ok');
    for (const w of OCR_TEXT.split(' ')) expect(v.caption).toContain(w);
    expect(v.caption.toLowerCase()).toContain('young');

    const vad = byId.noise.omni_detective_trajectory.find((r) => r.tool === 'vad')!;
    expect(vad.data.totals.speech).toBeLessThan(1);
    expect(vad.data.totals.noise).toBeGreaterThan(1); // alsa Noise.wav
    expect(speech.omni_detective_trajectory.find((r) => r.tool === 'vad')!.data.totals.speech).toBeGreaterThan(1);
    // music (a song: sung vocals read as speech) and a sound effect
    const music = byId.music.omni_detective_trajectory.find((r) => r.tool === 'vad')!.data.totals;
    expect(music.speech + music.music).toBeGreaterThan(11);
    expect(byId.music.caption).toMatch(/LUFS/);
    const sfx = byId.sfx.omni_detective_trajectory.find((r) => r.tool === 'vad')!.data.totals;
    expect(sfx.noise).toBeGreaterThan(0.3);
    expect(sfx.music).toBe(0);

    expect(byId.missing).toMatchObject({ status: 'error', error: { code: 'MEDIA_NOT_FOUND' } });
    expect(byId.corrupt.status).toBe('error');
    expect(byId.corrupt.error.code).toMatch(/^MEDIA_/);

    // kill -9 mid-write: a torn last line is dropped on resume, finished lines are kept, none duplicated
    const before = readFileSync(out, 'utf8').trim().split('\n');
    const kept = before.filter((l) => JSON.parse(l).id !== 'noise');
    writeFileSync(out, kept.join('\n') + '\n' + before.find((l) => JSON.parse(l).id === 'noise')!.slice(0, 80));
    const s2 = await runBatch({ clips, output: out, llm: llm(), toolbox: tb, workers: 2, seed: 3, rounds: 5 });
    expect(s2).toMatchObject({ skipped: 6, ok: 1, errors: 0 });
    // every observation of the redone clip came from the cache
    expect(s2.observerCalls).toEqual({});
    const ids = lines(out).map((l) => l.id).sort();
    expect(ids).toEqual(['corrupt', 'missing', 'music', 'noise', 'sfx', 'speech', 'video']);
  });

  it('a rerun with a new agent prompt reuses the cached observations (zero observer calls)', async () => {
    const promptDir = join(dir, 'prompts');
    mkdirSync(promptDir, { recursive: true });
    for (const n of ['agent', 'round', 'reask', 'synthesis', 'revise']) copyFileSync(join(packageRoot(), 'prompts', 'detective', `${n}.v5.md`), join(promptDir, `${n}.v5.md`));
    appendFileSync(join(promptDir, 'agent.v5.md'), '\nBe thorough.\n');
    await using tb = toolbox(cache); // disposed even when an assertion fails (no Whisper process left behind)
    const out2 = join(dir, 'out2.jsonl');
    const s = await runBatch({ clips: loadClips(join(dir, 'clips.jsonl')), output: out2, llm: llm(), toolbox: tb, workers: 1, seed: 3, rounds: 5, promptDir });
    expect(s.ok).toBe(5);
    expect(s.observerCalls).toEqual({});
    const rows = lines(out2).filter((l) => l.status === 'ok');
    const original = lines(out).find((l) => l.id === 'speech')!;
    const again = rows.find((l) => l.id === 'speech')!;
    expect(again.prompts[0].sha256).not.toBe(original.prompts[0].sha256);
    expect(again.caption).toBe(original.caption);
    expect(again.omni_detective_trajectory.filter((r) => r.cached === true)).toHaveLength(3);
  });
});
