/**
 * The demo page at / in a real browser (Debian chromium via playwright-core) against real servers
 * on loopback with the tiny fixture model: a real clip uploaded and captioned (the caption shown is
 * the one the server streamed), a microphone recording (chromium's fake capture device) captioned,
 * the keyboard focus order, the API key prompt of a real `omnicap serve --api-key` (dist: the page
 * files shipped by scripts/build-assets.js), and `serve --no-ui` answering 404 at /.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Page } from 'playwright-core';
import { createToolbox, defaultObservers, type DetectiveToolbox } from '../../src/detective';
import { LocalAnnotationJobs } from '../../src/detective/jobs';
import type { Captioner } from '../../src/engine/types';
import { createLlm, type ChatModel } from '../../src/llm';
import { packageRoot } from '../../src/util/paths';
import { SPEECH, SPEECH_TEXT } from '../detective/media';
import { FakeLlm } from '../queue/fake-llm';
import { ALSA_FRONT, SPEECH_3S, loadTiny, parseSse, start, wavBase64, type Started } from '../server/helpers';
import { until } from '../wait';
import { launchChromium, type TestBrowser } from './chromium';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const KEY = 'demo-key-5f3a';

const tmp = mkdtempSync(join(tmpdir(), 'omnicap-demo-'));
let captioner: Captioner;
let fake: FakeLlm;
let llm: ChatModel;
let toolbox: DetectiveToolbox;
let jobs: LocalAnnotationJobs;
let s: Started;
let chromium: TestBrowser;

beforeAll(async () => {
  captioner = await loadTiny();
  // the Detective: real observers (signal analysis, Whisper ASR) on the real clip; its LLM is the
  // scripted OpenAI-compatible server on loopback, which can hold its replies
  fake = await new FakeLlm().start();
  llm = await createLlm({ kind: 'openai', url: fake.url, model: 'fake-detective' });
  toolbox = createToolbox({ observers: defaultObservers().filter((o) => o.name === 'signal' || o.name === 'asr') });
  jobs = await LocalAnnotationJobs.open({ dataDir: join(tmp, 'jobs'), llm, toolbox, maxMediaBytes: 25 * 1024 * 1024 });
  s = await start({ captioner, annotations: jobs, defaultMaxTokens: 8 });
  chromium = await launchChromium();
}, 120_000);

afterAll(async () => {
  fake?.release();
  await chromium?.[Symbol.asyncDispose]();
  await s?.server.close();
  await jobs?.dispose();
  await toolbox?.dispose();
  await llm?.dispose();
  await fake?.stop();
  await captioner?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

interface DoneEvent {
  type: 'done';
  caption: string;
  model: string;
  audio_seconds: number;
  usage: { prompt_tokens: number; completion_tokens: number };
}

/** The `done` event of the page's streamed POST /v1/captions, read from the response the browser got. */
async function captionDone(page: Page, run: () => Promise<void>): Promise<DoneEvent> {
  const response = page.waitForResponse((r) => r.url().endsWith('/v1/captions') && r.request().method() === 'POST');
  await run();
  const events = parseSse(await (await response).text()).map((e) => JSON.parse(e.data) as { type: string });
  const done = events.find((e): e is DoneEvent => e.type === 'done');
  if (done === undefined) throw new Error(`no done event in ${JSON.stringify(events)}`);
  return done;
}

/** The page has shown the result of a finished run. */
async function finished(page: Page): Promise<void> {
  await page.locator('#run-status', { hasText: /^Done in / }).waitFor();
}

/** With OMNICAP_SCREENSHOT=1: the page as it stands, for docs/server.md. */
async function screenshot(page: Page): Promise<void> {
  if (process.env.OMNICAP_SCREENSHOT !== '1') return;
  await page.evaluate('document.activeElement?.blur()');
  await page.screenshot({ path: join(packageRoot(), 'docs', 'img', 'demo.png'), fullPage: true });
}

/** The id of the focused element, else its tag and text (test code has no DOM types: the page evaluates a string). */
const focused = (page: Page): Promise<string> =>
  page.evaluate<string>("(() => { const a = document.activeElement; return a === null ? 'none' : a.id !== '' ? a.id : `${a.tagName.toLowerCase()}:${a.textContent}`; })()");

/**
 * The elements Tab visits from the top of the page until `last` (a control with inner parts, such
 * as the audio player's buttons, counted once).
 */
async function tabOrder(page: Page, last: string): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < 30 && out[out.length - 1] !== last; i++) {
    await page.keyboard.press('Tab');
    const f = await focused(page);
    if (f !== out[out.length - 1]) out.push(f);
  }
  return out;
}

describe('the demo page (createServer on loopback)', () => {
  test('a real clip: chosen, run from the keyboard, the streamed caption, tokens and timings shown; sane focus order', async () => {
    const page = await chromium.page();
    await page.goto(`${s.url}/`);
    await page.locator('#server-status', { hasText: `Ready: Captioner (${captioner.modelId}), Detective.` }).waitFor();
    expect(await page.isChecked('#backend-captioner')).toBe(true);
    expect(await page.isChecked('#backend-detective')).toBe(false);

    await page.setInputFiles('#file', SPEECH_3S);
    await page.locator('#clip-name', { hasText: 'sense_and_sensibility_01_austen_64kb-0880.wav' }).waitFor();
    expect(await tabOrder(page, 'a:OpenAPI document')).toEqual(['a:Skip to the clip form', 'file', 'record', 'preview', 'backend-captioner', 'run', 'a:OpenAPI document']);

    await page.focus('#backend-captioner');
    const done = await captionDone(page, async () => {
      await page.keyboard.press('Tab'); // to the Caption button
      expect(await focused(page)).toBe('run');
      await page.keyboard.press('Enter');
    });
    await finished(page);
    // the focus went from the (now disabled) Caption button to Cancel, then to the result
    expect(await focused(page)).toBe('result-heading');
    expect(done.model).toBe(captioner.modelId);
    expect(done.audio_seconds).toBeCloseTo(2.99, 1);
    expect(done.caption.length).toBeGreaterThan(0);
    expect(await page.textContent('#caption .caption-text')).toBe(done.caption);
    const stats = await page.textContent('#stats');
    expect(stats).toContain(`Captioner (${captioner.modelId})`);
    expect(stats).toContain(`${done.usage.prompt_tokens} prompt, ${done.usage.completion_tokens} generated`);
    expect(stats).toMatch(/2\.99 s in 1 window/);
    expect(page.errors).toEqual([]);
  });

  test('a file dropped on the drop zone becomes the clip', async () => {
    const page = await chromium.page();
    await page.goto(`${s.url}/`);
    await page.locator('#server-status', { hasText: /^Ready/ }).waitFor();
    const bytes = wavBase64(ALSA_FRONT);
    const transfer = await page.evaluateHandle(`(() => {
      const t = new DataTransfer();
      t.items.add(new File([Uint8Array.from(atob(${JSON.stringify(bytes)}), (c) => c.charCodeAt(0))], 'Front_Center.wav', { type: 'audio/wav' }));
      return t;
    })()`);
    await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer: transfer });
    await page.locator('#clip-name', { hasText: `Clip: Front_Center.wav (${Math.round(Buffer.from(bytes, 'base64').length / 1024)} KiB)` }).waitFor();
    expect(await page.isEnabled('#run')).toBe(true);
    expect(await page.getAttribute('#preview', 'src')).toMatch(/^blob:/);
    expect(page.errors).toEqual([]);
  });

  test('a microphone recording (chromium\'s fake capture device) is captioned', async () => {
    const page = await chromium.page();
    await page.goto(`${s.url}/`);
    await page.locator('#server-status', { hasText: /^Ready/ }).waitFor();
    await page.click('#record');
    await page.locator('#record[aria-pressed="true"]', { hasText: 'Stop recording' }).waitFor(); // once the microphone is open
    // the status counts the recorded seconds as the recorder delivers its chunks
    await page.locator('#record-status', { hasText: /^Recording… [1-9]\d* s$/ }).waitFor();
    await page.click('#record');
    await page.locator('#clip-name', { hasText: /^Clip: recording\.(webm|ogg|m4a)/ }).waitFor();
    const done = await captionDone(page, () => page.click('#run'));
    await finished(page);
    expect(done.audio_seconds).toBeGreaterThanOrEqual(0.9);
    expect(await page.textContent('#caption .caption-text')).toBe(done.caption);
    expect(page.errors).toEqual([]);
  });
});

interface JobJson {
  id: string;
  status: string;
  result?: { status: string; caption: string; provenance?: Array<{ sentence: string }>; omni_detective_trajectory: Array<{ round: number; tool?: string }>; tokens: { prompt: number; completion: number }; llm_calls: number };
}

/** The job id the page shows in its status line. */
async function jobId(page: Page): Promise<string> {
  await page.locator('#run-status', { hasText: /^Job [0-9a-f-]{36}/ }).waitFor();
  const id = /^Job ([0-9a-f-]{36})/.exec((await page.textContent('#run-status')) ?? '')?.[1];
  if (id === undefined) throw new Error('no job id on the page');
  return id;
}

describe('the Detective on the demo page (annotation jobs)', () => {
  test('the rounds arrive while the detective LLM is held, then the caption with the spoken words, its tokens and stage times', async () => {
    const page = await chromium.page();
    await page.goto(`${s.url}/`);
    await page.locator('#server-status', { hasText: /^Ready/ }).waitFor();
    await page.focus('#backend-captioner');
    await page.keyboard.press('ArrowDown'); // radio group: the arrow keys choose
    expect(await page.isChecked('#backend-detective')).toBe(true);
    await page.setInputFiles('#file', SPEECH);
    const calls = fake.calls;
    fake.hold();
    try {
      await page.click('#run');
      const id = await jobId(page);
      await fake.until(() => fake.calls > calls, 'the job to ask its LLM');
      // the observers' reports are on the page while the job waits for its LLM: they came live
      const asr = page.locator('#rounds li', { hasText: 'asr' });
      await asr.waitFor();
      const transcript = ((await asr.textContent()) ?? '').toLowerCase();
      expect(SPEECH_TEXT.split(' ').filter((w) => transcript.includes(w)).length).toBeGreaterThanOrEqual(4);
      expect(await page.textContent('#caption')).toBe('');
      expect(await page.textContent('#run-status')).toMatch(new RegExp(`^Job ${id}: running, \\d+ rounds? so far\\.$`));
    } finally {
      fake.release();
    }
    await page.locator('#run-status', { hasText: /: (ok|degraded), \d+ rounds in [\d.]+ s\.$/ }).waitFor();
    const id = await jobId(page);
    const job = (await (await fetch(`${s.url}/v1/annotations/${id}`)).json()) as JobJson;
    expect(job.status).toBe('done');
    const record = job.result!;
    // the caption as one text, or (once the Detective records provenance) one button per sentence
    if (record.provenance === undefined) expect(await page.textContent('#caption .caption-text')).toBe(record.caption);
    else expect(await page.locator('#caption button.sentence').allTextContents()).toEqual(record.provenance.map((p) => p.sentence));
    const caption = (await page.textContent('#caption')) ?? '';
    expect(SPEECH_TEXT.split(' ').filter((w) => caption.toLowerCase().includes(w)).length).toBeGreaterThanOrEqual(4);
    // every round of the record, in order, once
    const shown = await page.locator('#rounds li').evaluateAll((lis) => lis.map((li) => Number(li.getAttribute('data-round'))));
    expect(shown).toEqual(record.omni_detective_trajectory.map((r) => r.round));
    const stats = (await page.textContent('#stats')) ?? '';
    expect(stats).toContain(`${record.tokens.prompt} prompt, ${record.tokens.completion} generated in ${record.llm_calls} call`);
    expect(stats).toMatch(/Stages.*fixed reports .*rounds .*synthesis /);
    expect(page.errors).toEqual([]);
    await screenshot(page);
  });

  test('a record with provenance: a sentence per entry, the unsupported one flagged, its button highlights its evidence rounds', async () => {
    // A scripted record in the provenance contract's shape, whatever the Detective's own finder
    // gives: the job protocol is answered in the browser (page.route); the page and config are real.
    const page = await chromium.page();
    const id = '00000000-0000-4000-8000-0000000000d0';
    const said = 'He was not an ill-disposed young man.';
    const rounds = [
      { round: 1, status: 'ok', tool: 'asr', question: 'Report what you observe in this clip.', answer: `[0.0-2.8 s] ${said}`, cached: false, ms: 900, upfront: true },
      { round: 2, status: 'ok', tool: 'signal', question: 'Report what you observe in this clip.', answer: 'integrated loudness -27.0 LUFS', cached: false, ms: 40, upfront: true },
      { round: 3, status: 'finish', reason: 'the observations answer the clip', ms: 300 },
    ];
    const sentences = [`A man says: "${said}"`, 'A dragon roars in the distance.'];
    const record = {
      id: 'clip', status: 'degraded', degraded_reasons: ['unsupported_sentence'], caption: sentences.join(' '),
      provenance: [
        { sentence: sentences[0], start: 0, end: sentences[0].length, supported: true, evidence: [{ round: 1, tool: 'asr', start_seconds: 0, end_seconds: 2.8, text: said }, { round: 2, tool: 'signal' }] },
        { sentence: sentences[1], start: sentences[0].length + 1, end: sentences.join(' ').length, supported: false, evidence: [] },
      ],
      omni_detective_trajectory: rounds, tokens: { prompt: 812, completion: 64, evaluated: 400 }, llm_calls: 2,
      stages_ms: { fixed_reports: 940, rounds: 300, synthesis: 1200 }, seconds: 2.5,
    };
    const events = [['status', { status: 'running' }], ...rounds.map((r) => ['round', r]), ['status', { status: 'done' }], ['result', record]];
    await page.route('**/v1/annotations', (r) => r.fulfill({ status: 202, contentType: 'application/json', body: JSON.stringify({ id, status: 'queued' }) }));
    await page.route(`**/v1/annotations/${id}/events`, (r) => r.fulfill({ status: 200, contentType: 'text/event-stream', body: events.map(([e, d]) => `event: ${String(e)}\ndata: ${JSON.stringify(d)}\n\n`).join('') }));
    await page.goto(`${s.url}/`);
    await page.locator('#server-status', { hasText: /^Ready/ }).waitFor();
    await page.check('#backend-detective');
    await page.setInputFiles('#file', SPEECH);
    await page.click('#run');
    await page.locator('#run-status', { hasText: `Job ${id}: degraded, 3 rounds in 2.50 s.` }).waitFor();

    const items = page.locator('#caption ol.sentences > li');
    expect(await items.count()).toBe(2);
    expect(await items.nth(0).getAttribute('class')).toBe('supported');
    expect(await items.nth(0).locator('button.sentence').textContent()).toBe(sentences[0]);
    expect(await items.nth(0).locator('.evidence li').allTextContents()).toEqual([`round 1 · asr · 0.0 s–2.8 s${said}`, 'round 2 · signal']);
    expect(await items.nth(1).getAttribute('class')).toBe('unsupported');
    expect(await items.nth(1).locator('.evidence').textContent()).toContain('no evidence');
    expect(await page.textContent('#degraded')).toBe('Degraded: unsupported_sentence');
    expect(await page.textContent('#stats')).toContain('812 prompt, 400 evaluated, 64 generated in 2 calls');

    // from the keyboard: the sentence's button marks its evidence rounds, pressed again it clears them
    const highlighted = (): Promise<string[]> => page.locator('#rounds li.evidence-of').evaluateAll((lis) => lis.map((li) => li.id));
    await items.nth(0).locator('button.sentence').focus();
    await page.keyboard.press('Enter');
    expect(await items.nth(0).locator('button.sentence').getAttribute('aria-pressed')).toBe('true');
    expect(await highlighted()).toEqual(['round-1', 'round-2']);
    await page.keyboard.press('Enter');
    expect(await highlighted()).toEqual([]);
    expect(page.errors).toEqual([]);
  });

  test('Cancel deletes the job (it cannot finish first: its LLM is held) and the page says cancelled', async () => {
    const page = await chromium.page();
    await page.goto(`${s.url}/`);
    await page.locator('#server-status', { hasText: /^Ready/ }).waitFor();
    await page.check('#backend-detective');
    await page.setInputFiles('#file', SPEECH);
    fake.hold();
    try {
      await page.click('#run');
      const id = await jobId(page);
      expect(await page.isEnabled('#cancel')).toBe(true);
      await page.click('#cancel');
      await page.locator('#run-status', { hasText: `Job ${id}: cancelled.` }).waitFor();
      expect(((await (await fetch(`${s.url}/v1/annotations/${id}`)).json()) as JobJson).status).toBe('cancelled');
      expect(await page.isDisabled('#cancel')).toBe(true);
      expect(await page.isEnabled('#run')).toBe(true);
    } finally {
      fake.release();
    }
    expect(page.errors).toEqual([]);
  });
});

interface Served extends AsyncDisposable {
  url: string;
  stdout(): string;
}

/** A real `omnicap serve` process (dist/) on a free port, ready. */
async function serve(args: string[]): Promise<Served> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--provider', 'cpu', '--threads', '1', '--quiet', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const dispose = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  try {
    await until(() => /ready, model/.test(out) || child.exitCode !== null, [[child.stdout, 'data'], [child, 'exit']], 'serve ready');
  } catch (e) {
    await dispose();
    throw e;
  }
  const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
  if (url === undefined) throw new Error(`serve did not start: ${out}${err}`);
  return { url, stdout: () => out, [Symbol.asyncDispose]: dispose };
}

describe('omnicap serve (a real process, the page files from dist/)', () => {
  test('--api-key: the page asks for the key, refuses a wrong one, keeps the right one in session storage only and captions', async () => {
    await using server = await serve(['--api-key', KEY, '--default-max-tokens', '6']);
    expect(server.stdout()).toContain(`; demo page ${server.url}/`);
    const page = await chromium.page();
    await page.goto(`${server.url}/`);
    await page.locator('#key-section').waitFor({ state: 'visible' });
    expect(await page.textContent('#key-reason')).toBe('This server needs an API key.');
    expect(await focused(page)).toBe('api-key');

    await page.keyboard.type('not-the-key');
    await page.keyboard.press('Enter');
    await page.locator('#key-reason', { hasText: 'The server refused the key: invalid API key.' }).waitFor();
    expect(await focused(page)).toBe('api-key');

    await page.keyboard.type(KEY);
    await page.keyboard.press('Enter');
    await page.locator('#server-status', { hasText: /^Ready: Captioner/ }).waitFor();
    expect(await page.isHidden('#key-section')).toBe(true);
    // no --detective: one backend, and the note says how to get the other
    expect(await page.locator('input[name=backend]').count()).toBe(1);
    expect(await page.textContent('#backends-note')).toContain('omnicap serve --detective');
    expect(await page.evaluate("({ session: sessionStorage.getItem('omnicap.apiKey'), local: localStorage.length })")).toEqual({ session: KEY, local: 0 });

    await page.setInputFiles('#file', SPEECH_3S);
    const done = await captionDone(page, () => page.click('#run'));
    await finished(page);
    expect(done.usage.completion_tokens).toBeLessThanOrEqual(6);
    expect(await page.textContent('#caption .caption-text')).toBe(done.caption);
    // no errors but the browser's own log lines of the refused requests
    expect(page.errors.filter((e) => !/status of 401 \(Unauthorized\)/.test(e))).toEqual([]);
  });

  test('--no-ui: / and the page files are 404 as before; serve --help tells of --no-ui', async () => {
    await using server = await serve(['--no-ui']);
    expect(server.stdout()).not.toContain('demo page');
    for (const path of ['/', '/ui/demo.mjs', '/v1/ui/config']) {
      const res = await fetch(`${server.url}${path}`);
      expect({ path, status: res.status, code: ((await res.json()) as { error: { code: string } }).error.code }).toEqual({ path, status: 404, code: 'NOT_FOUND' });
    }
    const doc = (await (await fetch(`${server.url}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).not.toContain('/');
    const help = spawn(process.execPath, [CLI, 'serve', '--help'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let text = '';
    help.stdout.on('data', (d: Buffer) => (text += d.toString()));
    await new Promise((r) => help.once('exit', r));
    expect(text).toMatch(/--no-ui\s+do not serve the demo page at \//);
  });
});
