/**
 * omnicap review in a real browser (Debian chromium via playwright-core): annotation review of a
 * file made from real media (provenance fields written by hand where the Detective writes none),
 * and Omni-Cloze verification of real `cloze build` output. Asserts the decisions persisted in the
 * journal, what the pages show after a reload, what `omnicap export --reviewed` exports, the
 * evidence highlighting and media seek, the per-line report of a malformed file, media refused
 * outside the root, Range requests, and the verified set read back with the cloze loader.
 *
 * OMNICAP_SCREENSHOTS=DIR also saves the pages as PNGs there (docs/img is made this way).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { isReleasedLayout, parseClip, parseJsonlLines, runClozeBuild } from '../../src/cloze';
import { createReviewServer, type ReviewServer } from '../../src/server/review';
import { packageRoot } from '../../src/util/paths';
import { ScriptedBuilder } from '../cloze/scripted-builder';
import { clip, tempDir } from '../media/helpers';
import { launchChromium, type TestBrowser } from './chromium';
import { annotationRecord } from '../export/record';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const SHOTS = process.env.OMNICAP_SCREENSHOTS;
const S1 = 'A man reads aloud: "he was not an ill disposed young man".';
const S2 = ' A dog barks in the distance.';
const CAPTION_A = `${S1}${S2}`;
const CAPTION_B = 'A man speaks about mister john dashwood.';
const EDITED_B = 'A man reads a sentence about Mister John Dashwood and his means.';

async function shot(page: Page, name: string): Promise<void> {
  if (SHOTS === undefined) return;
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name), fullPage: true });
}

function journal(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

let browser: TestBrowser;
const tmp = tempDir('omnicap-review-');

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(async () => {
  await browser[Symbol.asyncDispose]();
  tmp.cleanup();
});

describe('omnicap review: annotations', () => {
  const root = join(tmp.dir, 'media');
  const input = join(tmp.dir, 'annotations.jsonl');
  let server: ReviewServer;
  let url: string;

  beforeAll(async () => {
    mkdirSync(root);
    copyFileSync(clip('librivox-0880').path, join(root, 'speech-0880.wav'));
    copyFileSync(clip('librivox-0870').path, join(root, 'speech-0870.wav'));
    copyFileSync(clip('video-av-mp4').path, join(root, 'video.mp4'));
    const media = (path: string, video = false): Record<string, unknown> => ({ path, sha256: '0'.repeat(64), duration_seconds: 3, has_audio: true, has_video: video });
    const rounds = [
      { round: 0, status: 'ok', tool: 'asr', question: 'transcribe', answer: 'he was not an ill disposed young man', cached: false, ms: 800, upfront: true },
      { round: 1, status: 'ok', tool: 'sound_events', question: 'what sounds?', answer: 'speech (0.0-2.9 s)', cached: false, ms: 300 },
      { round: 2, status: 'finish', reason: 'enough evidence', ms: 5 },
    ];
    const provenance = [
      { sentence: S1, start: 0, end: S1.length, supported: true, evidence: [{ round: 1, tool: 'sound_events', start_seconds: 0.5, end_seconds: 2.5 }, { round: 0, tool: 'asr', text: 'he was not an ill disposed young man' }] },
      { sentence: S2.trim(), start: S1.length + 1, end: CAPTION_A.length, supported: false, evidence: [] },
    ];
    const lines = [
      JSON.stringify(annotationRecord({ id: 'speech-a', status: 'ok', media: media('speech-0880.wav'), caption: CAPTION_A, omni_detective_trajectory: rounds, provenance })),
      JSON.stringify(annotationRecord({ id: 'speech-b', status: 'degraded', degraded_reasons: ['caption check: grounding'], media: media(join(root, 'speech-0870.wav')), caption: CAPTION_B, omni_detective_trajectory: rounds.slice(0, 1) })),
      JSON.stringify(annotationRecord({ id: 'video-c', status: 'ok', media: media('video.mp4', true), caption: 'Colour bars while a man talks.', omni_detective_trajectory: [] })),
      JSON.stringify(annotationRecord({ id: 'outside', status: 'ok', media: media(clip('alsa-noise').path), caption: 'Noise from outside the media root.', omni_detective_trajectory: [] })),
      '{"id": "broken", "status": "ok", "caption": ',
      '',
      '[1, 2, 3]',
    ];
    writeFileSync(input, `${lines.join('\n')}\n`);
    server = await createReviewServer({ input, mediaRoot: root, reviewer: 'ada' });
    url = (await server.listen(0)).url;
  });
  afterAll(async () => server.close());

  test('list with per-line errors and filters; provenance highlight and seek; accept, edit, reject by keyboard; reload; export --reviewed', async () => {
    const page = await browser.page();
    await page.goto(url);
    expect(server.kind).toBe('annotations');
    await expect(page.locator('#clips tbody tr').count()).resolves.toBe(4);
    expect(await page.locator('#line-errors li').allInnerTexts()).toEqual([expect.stringMatching(/^line 5: not valid JSON/), 'line 7: not a JSON object']);
    await page.selectOption('#f-status', 'degraded');
    await Promise.all([page.waitForURL(/status=degraded/), page.click('.filters button[type=submit]')]);
    expect(await page.locator('#clips tbody tr').getAttribute('data-key')).toBe('speech-b');
    await page.goto(`${url}?q=${encodeURIComponent('dog barks')}`);
    expect(await page.locator('#clips tbody tr').getAttribute('data-key')).toBe('speech-a');
    await page.goto(url);
    await shot(page, 'review-list.png');

    // clip A: waveform from decoded samples, provenance, evidence highlight and seek
    await Promise.all([page.waitForURL(/clips\/speech-a$/), page.click('a.clip-link >> text=speech-a')]);
    await page.waitForSelector('#waveform[data-drawn="960"]');
    expect(await page.locator('.sentence.unsupported').innerText()).toContain('A dog barks in the distance.');
    await page.click('#s-0');
    await page.waitForFunction("Math.abs(document.querySelector('#player').currentTime - 0.5) < 0.01");
    expect(await Promise.all((await page.locator('#rounds .round.evidence').all()).map((l) => l.getAttribute('data-round')))).toEqual(['0', '1']);
    expect(await page.locator('#ev-0').isVisible()).toBe(true);
    expect(await page.locator('#ev-0').innerText()).toContain('0.50 s–2.50 s');
    await shot(page, 'review-clip.png');
    await Promise.all([page.waitForURL(/clips\/speech-b$/), page.keyboard.press('a')]);

    // clip B: no provenance; edit by keyboard
    expect(await page.locator('#no-provenance').innerText()).toBe('no provenance recorded');
    await page.keyboard.press('e');
    expect(await page.evaluate('document.activeElement.id')).toBe('caption-edit');
    await page.fill('#caption-edit', EDITED_B);
    await Promise.all([page.waitForURL(/clips\/video-c$/), page.keyboard.press('Control+Enter')]);

    // clip C: a reject needs a note; then r, note, Enter
    expect(await page.locator('video#player').count()).toBe(1);
    await page.click('#btn-reject');
    expect(await page.locator('#form-error').innerText()).toContain('needs a note');
    await page.keyboard.press('r');
    await page.keyboard.type('speaker is a woman, not a man');
    await Promise.all([page.waitForURL(/clips\/outside$/), page.keyboard.press('Enter')]);

    // clip D: media outside the root refused, on the page and over HTTP
    await page.waitForSelector('#media-error:not([hidden])');
    const refused = await page.request.get(`${url}media/outside`);
    expect(refused.status()).toBe(403);
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN_PATH');
    expect((await page.request.get(`${url}media/nope`)).status()).toBe(404);
    const part = await page.request.get(`${url}media/speech-a`, { headers: { Range: 'bytes=0-99' } });
    expect(part.status()).toBe(206);
    expect(part.headers()['content-range']).toBe(`bytes 0-99/${readFileSync(join(root, 'speech-0880.wav')).length}`);
    expect(Buffer.from(await part.body()).equals(readFileSync(join(root, 'speech-0880.wav')).subarray(0, 100))).toBe(true);

    // the journal and a reload (a new server on the same files) show the decisions
    const j = journal(`${input}.reviews.jsonl`);
    expect(j.map((d) => [d.clip, d.decision, d.reviewer])).toEqual([['speech-a', 'accept', 'ada'], ['speech-b', 'edit', 'ada'], ['video-c', 'reject', 'ada']]);
    expect(j[1]).toMatchObject({ caption: EDITED_B, before: CAPTION_B });
    expect(j[2]).toMatchObject({ note: 'speaker is a woman, not a man' });
    expect(Date.parse(j[0].time as string)).not.toBeNaN();
    await server.close();
    server = await createReviewServer({ input, mediaRoot: root, reviewer: 'ada' });
    url = (await server.listen(0)).url;
    await page.goto(url);
    const decisions = await Promise.all((await page.locator('#clips tbody tr').all()).map(async (r) => [await r.getAttribute('data-key'), await r.locator('td:nth-child(3)').innerText()]));
    expect(decisions).toEqual([['speech-a', 'accepted'], ['speech-b', 'edited'], ['video-c', 'rejected'], ['outside', 'undecided']]);
    await page.goto(`${url}clips/speech-b`);
    expect(await page.inputValue('#caption-edit')).toBe(EDITED_B);
    expect(await page.locator('#current-decision').innerText()).toMatch(/^edited by ada at /);
    expect(page.errors.filter((e) => !/^Failed to load resource: the server responded with a status of (400|403)/.test(e))).toEqual([]); // the refused reject and the refused media

    // omnicap export --reviewed: exactly the accepted and the edited clip, the edit replacing the caption
    const out = join(tmp.dir, 'train.jsonl');
    const r = spawnSync(process.execPath, [CLI, 'export', '--input', input, '--format', 'sharegpt', '--output', out, '--media-root', root, '--reviewed'], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/export: 2 sharegpt examples .*skipped: .*1 rejected.*1 unreviewed/);
    // the file's two malformed lines are reported, not exported, and make the exit status 1
    expect(r.stderr).toMatch(/line 5: not valid JSON/);
    expect(r.stderr).toMatch(/line 7: an annotation line must be a JSON object/);
    expect(r.status).toBe(1);
    const recs = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; conversations: Array<{ value: string }> });
    expect(recs.map((x) => [x.id, x.conversations[1].value])).toEqual([['speech-a', CAPTION_A], ['speech-b', EDITED_B]]);
  });

  test('peaks come from the decoded audio: speech is loud where the file is', async () => {
    const res = await fetch(`${url}peaks/speech-a?n=100`);
    const p = (await res.json()) as { duration_seconds: number; peaks: number[] };
    expect(p.peaks).toHaveLength(100);
    expect(p.duration_seconds).toBeGreaterThan(2);
    expect(Math.max(...p.peaks)).toBeGreaterThan(0.1);
    expect(Math.min(...p.peaks)).toBeLessThan(Math.max(...p.peaks) / 4);
  });

  test('DNS-rebound host names and cross-site posts are refused; nothing is journaled', async () => {
    const before = readFileSync(`${input}.reviews.jsonl`, 'utf8');
    const send = (method: string, headers: Record<string, string>): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(`${url}clips/outside/decision`, { method, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.once('error', reject);
        req.end(method === 'POST' ? 'decision=accept' : undefined);
      });
    expect(await send('GET', { host: 'evil.example' })).toBe(403);
    expect(await send('POST', { origin: 'http://evil.example' })).toBe(403);
    expect(await send('POST', { 'sec-fetch-site': 'cross-site' })).toBe(403);
    expect(readFileSync(`${input}.reviews.jsonl`, 'utf8')).toBe(before);
  });
});

describe('omnicap review: cloze verification', () => {
  test('accept, edit and reject blanks, write the verified set, read it back with the cloze loader', async () => {
    const refs = join(tmp.dir, 'refs.jsonl');
    const input = join(tmp.dir, 'cloze.jsonl');
    const caption = 'A woman reads a short passage aloud in a quiet library, and soft rain taps on the window behind her.';
    writeFileSync(refs, `${JSON.stringify({ id: 'c1', caption, domain: 'speech', category: 'reading' })}\n`);
    const llm = new ScriptedBuilder({
      'quiet library': {
        blanks: [{ span: 'woman', category: 'speaker', modality: 'audio' }, { span: 'library', category: 'place', modality: 'visual' }, { span: 'rain', category: 'sound event', modality: 'audio' }],
        distractors: { woman: ['man', 'child', 'robot'], library: ['kitchen', 'stadium', 'forest'], rain: ['hail', 'wind', 'traffic'] },
      },
    });
    expect((await runClozeBuild({ input: refs, output: input, llm, seed: 1 })).blanksKept).toBe(3);
    const output = join(tmp.dir, 'verified.jsonl');
    await using server = await createReviewServer({ input, reviewer: 'grace', verifiedOutput: output });
    expect(server.kind).toBe('cloze');
    const { url } = await server.listen(0);
    const page = await browser.page();
    await page.goto(url);
    await Promise.all([page.waitForURL(/clips\/c1$/), page.click('a.clip-link')]);
    expect(await page.evaluate('document.activeElement.id')).toBe('blank-1');
    await Promise.all([page.waitForURL(/#blank-2$/), page.keyboard.press('a')]);
    await page.fill('#b-2-answer', 'reading room');
    await page.fill('#b-2-d1', 'kitchen');
    await page.fill('#b-2-d2', 'train station');
    await page.fill('#b-2-d3', 'garden');
    await shot(page, 'cloze-verify.png');
    await Promise.all([page.waitForURL(/#blank-3$/), page.click('#blank-2 .btn-edit')]);
    await page.keyboard.press('r');
    await page.keyboard.type('the rain is not audible');
    await Promise.all([page.waitForURL((u) => u.pathname === '/'), page.keyboard.press('Enter')]);
    await Promise.all([page.waitForURL(/#written$/), page.click('#btn-write')]);
    expect(await page.locator('#written').innerText()).toMatch(/^Wrote 1 clips with 2 verified blanks .* \(1 rejected, 0 undecided/);

    const j = journal(`${input}.reviews.jsonl`);
    expect(j.map((d) => [d.blank, d.decision, d.reviewer])).toEqual([['1', 'accept', 'grace'], ['2', 'edit', 'grace'], ['3', 'reject', 'grace']]);
    expect(j[1]).toMatchObject({ answer: 'reading room', distractors: ['kitchen', 'train station', 'garden'], before: { answer: 'library' } });
    const text = readFileSync(output, 'utf8');
    expect(isReleasedLayout(JSON.parse(text.split('\n')[0]) as Record<string, unknown>)).toBe(true);
    const loaded = parseJsonlLines(text, (v) => parseClip(v));
    expect(loaded.every((r) => r.ok)).toBe(true);
    const c = loaded[0].ok ? loaded[0].value : undefined;
    expect(c?.passage).toBe('A [BLANK_1] reads a short passage aloud in a quiet [BLANK_2], and soft rain taps on the window behind her.');
    expect(c?.blanks.map((b) => [b.id, b.options[b.answer], b.modality])).toEqual([['1', 'woman', 'audio'], ['2', 'reading room', 'visual']]);
    expect(new Set(Object.values(c!.blanks[1].options))).toEqual(new Set(['reading room', 'kitchen', 'train station', 'garden', 'not given']));
    expect(page.errors).toEqual([]);
  });
});
