/**
 * The demo page at / in a real browser (Debian chromium via playwright-core) against real servers
 * on loopback with the tiny fixture model: a real clip uploaded and captioned (the caption shown is
 * the one the server streamed), a microphone recording (chromium's fake capture device) captioned,
 * the keyboard focus order, the API key prompt of a real `omnicap serve --api-key` (dist: the page
 * files shipped by scripts/build-assets.js), and `serve --no-ui` answering 404 at /.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Page } from 'playwright-core';
import type { Captioner } from '../../src/engine/types';
import { packageRoot } from '../../src/util/paths';
import { SPEECH_3S, loadTiny, parseSse, start, type Started } from '../server/helpers';
import { until } from '../wait';
import { launchChromium, type TestBrowser } from './chromium';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const KEY = 'demo-key-5f3a';

let captioner: Captioner;
let s: Started;
let chromium: TestBrowser;

beforeAll(async () => {
  captioner = await loadTiny();
  s = await start({ captioner, defaultMaxTokens: 8 });
  chromium = await launchChromium();
});

afterAll(async () => {
  await chromium?.[Symbol.asyncDispose]();
  await s?.server.close();
  await captioner?.dispose();
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
    await page.locator('#server-status', { hasText: `Ready: Captioner (${captioner.modelId})` }).waitFor();
    // no Detective on this server: one backend, chosen, and the note says how to get the other
    expect(await page.locator('input[name=backend]').count()).toBe(1);
    expect(await page.isChecked('#backend-captioner')).toBe(true);
    await expect(page.textContent('#backends-note')).resolves.toContain('omnicap serve --detective');

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
    await screenshot(page);
  });

  test('a microphone recording (chromium\'s fake capture device) is captioned', async () => {
    const page = await chromium.page();
    await page.goto(`${s.url}/`);
    await page.locator('#server-status', { hasText: /^Ready/ }).waitFor();
    await page.click('#record');
    expect(await page.getAttribute('#record', 'aria-pressed')).toBe('true');
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
