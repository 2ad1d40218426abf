/**
 * The reference Omni-Detective's data files: its input.jsonl layout ({"id": 1, "url": ...}, ids of
 * any JSON type, other fields passed through) and `--format reference` output (input item +
 * omni_detective_trajectory as chat messages ending with the caption). Real observers (signal
 * analysis), a real loopback HTTP media host; the agent is scripted (this tests the batch loop).
 */
import { copyFileSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { clipKey, createToolbox, loadClips, loadDetectivePrompts, renderPrompt, runBatch, signalObserver, ProgressReporter, FIXED_REPORT_QUESTION } from '../../src/detective';
import { FRONT_CENTER, NOISE, SPEECH } from './media';
import { ScriptedChatModel } from './scripted-llm';

let media: Server;
let mediaUrl: string;
let served = 0;

beforeAll(async () => {
  media = createServer((req, res) => {
    if (req.url === '/captioner-case1.wav') {
      served++;
      res.end(readFileSync(FRONT_CENTER));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => media.listen(0, '127.0.0.1', () => r()));
  mediaUrl = `http://127.0.0.1:${(media.address() as AddressInfo).port}`;
});
afterAll(async () => new Promise<void>((r) => media.close(() => r())));

describe('input.jsonl in the reference layout', () => {
  it('reads ids of any JSON type, url (file:// or http) or path, and keeps every field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'det-ref-in-'));
    copyFileSync(SPEECH, join(dir, 'speech.wav'));
    const lines = [
      { id: 1, url: `https://example.invalid/a/captioner-case1.wav` },
      { id: '1', path: 'speech.wav', lang: 'en', tags: ['x'] },
      { id: { shard: 2 }, url: pathToFileURL(NOISE).href },
      { url: pathToFileURL(FRONT_CENTER).href },
    ];
    writeFileSync(join(dir, 'input.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const clips = loadClips(join(dir, 'input.jsonl'), { downloadDir: join(dir, 'dl') });
    expect(clips.map((c) => c.id)).toEqual(['json:1', '1', 'json:{"shard":2}', pathToFileURL(FRONT_CENTER).href]);
    expect(clips[0].remoteUrl).toBe('https://example.invalid/a/captioner-case1.wav');
    expect(clips[0].path.startsWith(join(dir, 'dl'))).toBe(true);
    expect(clips[0].path.endsWith('.wav')).toBe(true);
    expect(clips[1].path).toBe(join(dir, 'speech.wav')); // a relative path joins the input folder
    expect(clips[2].path).toBe(NOISE); // a file:// URL is never joined
    expect(clips.map((c) => c.item)).toEqual(lines);
    expect(clipKey(1)).not.toBe(clipKey('1'));
  });

  it('bad lines are typed errors naming the line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'det-ref-bad-'));
    const f = join(dir, 'in.jsonl');
    for (const [line, msg] of [
      ['{"id": 1}', /:1: needs a media reference/],
      ['{"id": 1, "url": "ftp://x/y.wav"}', /file:\/\/, http:\/\/ or https:\/\//],
      ['{"id": 1, "url": "file:///a.wav", "path": "b.wav"}', /either a "path" or a "url"/],
      ['[1]', /must be a JSON object/],
      ['{"id": 1, "path": "a.wav"}\n{"id": 1, "url": "file:///b.wav"}', /duplicate clip id 1/],
    ] as const) {
      writeFileSync(f, line);
      expect(() => loadClips(f)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(msg) }));
    }
  });
});

describe('detect --format reference', () => {
  const SCRIPT = ['{"tool":"signal","question":"How loud is it?"}', '{"action":"finish"}'];

  it('writes item + chat trajectory, downloads http clips only when allowed, and resumes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'det-ref-out-'));
    const input = join(dir, 'input.jsonl');
    const output = join(dir, 'output.jsonl');
    const items = [
      { id: 1, url: `${mediaUrl}/captioner-case1.wav`, note: 'remote' },
      { id: 2, url: pathToFileURL(SPEECH).href, meta: { lang: 'en' } },
      { id: 3, url: `${mediaUrl}/missing.wav` },
    ];
    writeFileSync(input, items.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const run = async (allowRemoteUrls: boolean, llm = new ScriptedChatModel(SCRIPT, undefined, true)) => {
      const toolbox = createToolbox({ observers: [signalObserver()], cacheDir: join(dir, 'cache') });
      try {
        return await runBatch({ clips: loadClips(input, { downloadDir: join(dir, 'media') }), output, llm, toolbox, rounds: 3, format: 'reference', allowRemoteUrls });
      } finally {
        await toolbox.dispose();
      }
    };
    const first = await run(false);
    expect(first).toMatchObject({ ok: 1, errors: 2 });
    expect(served).toBe(0); // remote URLs refused: nothing fetched
    const errors = readFileSync(`${output}.errors.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: unknown; error: { code: string } });
    expect(errors.map((e) => [e.id, e.error.code])).toEqual([[1, 'REMOTE_URL_DISABLED'], [3, 'REMOTE_URL_DISABLED']]);
    const second = await run(true); // failed clips are not in the output: the next run retries them
    expect(second).toMatchObject({ ok: 1, errors: 1, skipped: 1 });
    expect(served).toBe(1);
    const rows = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { omni_detective_trajectory: Array<{ role: string; content: string }> });
    expect(rows.map((r) => r.id).sort()).toEqual([1, 2]);
    for (const row of rows) {
      const item = items.find((i) => i.id === row.id)!;
      const { omni_detective_trajectory: t, ...rest } = row;
      expect(rest).toEqual(item); // the input item unchanged, ids keep their JSON type
      // the detective's own conversation: system, the fixed report gathered up front (recorded as the
      // round that asked it), its answer, the synthesis prompt over the established facts, the caption
      expect(t.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user', 'user', 'assistant']);
      expect(t[0].content).toContain(`- signal (audio, fixed report): ${signalObserver().description}`);
      expect(t[1].content).toMatch(/Round 1 of 3\. Observers not asked yet: signal\./);
      expect(t[2].content).toBe(`{"tool_name": "signal", "question": "${FIXED_REPORT_QUESTION}"}`); // the reference's json.dumps layout
      expect(t[3].content).toMatch(/^Answer from signal: .*LUFS/);
      expect(t[4].content).toMatch(/FACTS:[\s\S]*The sound is [a-z ,]+[\s\S]*\(integrated loudness -?[0-9.]+ LUFS/);
      const caption = JSON.parse(t[5].content) as string; // the caption, JSON-encoded as the reference writes it
      expect(caption).toMatch(/^In this clip: .*LUFS/);
    }
    const third = await run(true);
    expect(third).toMatchObject({ ok: 0, skipped: 2 });
  });
});

describe('progress', () => {
  const state = { done: 1, errors: 0, total: 4, rounds: 3, startedAt: 0 };
  it('redraws one line in place on a terminal', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const p = new ProgressReporter(out, { tty: true, now: () => 60_000 });
    p.update(state);
    p.update({ ...state, rounds: 4 });
    p.end({ ...state, done: 4, rounds: 9 });
    const frames = text.split('\r\x1b[2K').filter(Boolean);
    expect(frames).toHaveLength(3);
    expect(frames[1]).toMatch(/^\[######\.+\] 1\/4 clips, 0 errors, 4 rounds, 1\.0 clips\/min, elapsed 1m00s, ETA 3m00s$/);
    expect(frames[2].endsWith('\n')).toBe(true);
  });
  it('writes plain periodic lines without control characters elsewhere', () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    let now = 0;
    const p = new ProgressReporter(out, { tty: false, intervalMs: 10_000, now: () => now });
    for (now = 0; now <= 25_000; now += 1000) p.update(state); // every second for 25 s
    p.end(state);
    const lines = text.trim().split('\n');
    expect(lines).toHaveLength(4); // t=0, 10 s, 20 s, and the end
    expect(text).not.toMatch(/[\r\x1b]/);
    for (const l of lines) expect(l).toMatch(/^detect: \[/);
  });
});

it('an output file written by the reference itself is resumable (ids skipped)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'det-ref-res-'));
  const input = join(dir, 'input.jsonl');
  const output = join(dir, 'output.jsonl');
  writeFileSync(input, `${JSON.stringify({ id: 1, url: pathToFileURL(SPEECH).href })}\n`);
  writeFileSync(output, `${JSON.stringify({ id: 1, url: pathToFileURL(SPEECH).href, omni_detective_trajectory: [{ role: 'system', content: 's' }] })}\n`);
  const toolbox = createToolbox({ observers: [signalObserver()] });
  const s = await runBatch({ clips: loadClips(input), output, llm: new ScriptedChatModel([]), toolbox, format: 'reference' });
  await toolbox.dispose();
  expect(s).toMatchObject({ skipped: 1, ok: 0 });
  expect(existsSync(`${output}.errors.jsonl`)).toBe(false); // no failures, no side file
});
