/**
 * The vision-model observer's flags on the built CLI (dist/; `npm run build:ts` first): the help of
 * detect, worker and serve, usage errors, `detect` with the flags reaching the observer (the key
 * from $OMNICAP_VLM_API_KEY, frames at the fake endpoint, the answer in the caption, the model in
 * models.observers), and `serve` serving the observer at POST /v1/observers/vlm. The detective LLM
 * and the vision model are protocol fakes on loopback.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { DetectiveRound, VlmData } from '../../src/detective';
import { packageRoot } from '../../src/util/paths';
import { answer, FakeVlm, frameTimes, makeThreeShotVideo, type Reply, type SeenRequest } from '../detective/vlm-fake';
import { until } from '../wait';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'vlm-cli-'));
let fake: FakeVlm;
let origin = '';
let video: ReturnType<typeof makeThreeShotVideo>;

/** The detective: ask the vlm once, then finish. The vision model: one answer. */
function script(req: SeenRequest): Reply {
  if (req.path.startsWith('/vlm/')) return answer('a red car drives past a tree');
  const askedVlm = req.body.messages.some((m) => m.role === 'assistant' && typeof m.content === 'string' && m.content.includes('"tool":"vlm"'));
  return answer(askedVlm ? '{"tool":"finish","question":""}' : '{"tool":"vlm","question":"What happens in the video?"}');
}

beforeAll(async () => {
  fake = await FakeVlm.start();
  fake.reply = script;
  origin = fake.base.replace(/\/v1$/, '');
  video = makeThreeShotVideo(dir);
}, 60_000);
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [CLI, ...args], { env: { ...process.env, OMNICAP_VLM_API_KEY: '', ...env } });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

it('detect, worker and serve document the flags in --help', async () => {
  for (const cmd of ['detect', 'worker', 'serve']) {
    const { code, stdout } = await cli([cmd, '--help']);
    expect(code).toBe(0);
    for (const flag of ['--vlm-url URL', '--vlm-model NAME', '--vlm-api-key KEY', '--vlm-video', '$OMNICAP_VLM_API_KEY']) expect(stdout).toContain(flag);
  }
});

it('incomplete or bad flags are usage errors (exit 2) before any work', async () => {
  const clips = ['--input', join(dir, 'none.jsonl'), '--output', join(dir, 'none-out.jsonl')];
  const cases: Array<[string[], string]> = [
    [['detect', ...clips, '--vlm-url', 'http://127.0.0.1:9/v1'], '--vlm-url needs --vlm-model'],
    [['detect', ...clips, '--vlm-model', 'm'], '--vlm-model needs --vlm-url'],
    [['detect', ...clips, '--vlm-url', 'ftp://host/v1', '--vlm-model', 'm'], '--vlm-url must be an http(s) URL'],
    [['detect', '--queue', 'redis://127.0.0.1:9/0', ...clips, '--vlm-url', 'http://127.0.0.1:9/v1', '--vlm-model', 'm', '--vlm-api-key', 'k'], '--vlm-api-key is a worker setting'],
    [['worker', '--queue', 'redis://127.0.0.1:9/0', '--vlm-url', 'ftp://host/v1'], '--vlm-url must be an http(s) URL'],
    [['serve', '--port', '0', '--vlm-video'], '--vlm-video needs --vlm-url'],
  ];
  for (const [args, message] of cases) {
    const r = await cli(args);
    expect([args.join(' '), r.code]).toEqual([args.join(' '), 2]);
    expect(r.stderr).toContain('INVALID_ARGUMENT');
    expect(r.stderr).toContain(message);
  }
  expect(fake.requests).toHaveLength(0);
});

it('detect --vlm-url --vlm-model: the detective asks the vlm, which gets frames with the key from $OMNICAP_VLM_API_KEY; its answer reaches the caption', async () => {
  const input = join(dir, 'clips.jsonl');
  const output = join(dir, 'out.jsonl');
  writeFileSync(input, `${JSON.stringify({ id: 'three-shots', path: video.path })}\n`);
  const args = ['detect', '--input', input, '--output', output, '--llm-url', `${origin}/det/v1`, '--llm-model', 'scripted', '--vlm-url', `${origin}/vlm/v1`, '--vlm-model', 'fake-vl', '--observers', 'video,vlm', '--rounds', '2', '--synthesis', 'template', '--no-progress'];
  const r = await cli(args, { OMNICAP_VLM_API_KEY: 'sk-from-env' });
  expect([r.code, r.stderr]).toEqual([0, expect.stringContaining('1 ok')]);
  const toVlm = fake.requests.filter((q) => q.path === '/vlm/v1/chat/completions');
  expect(toVlm).toHaveLength(1);
  expect(toVlm[0].auth).toBe('Bearer sk-from-env');
  expect(toVlm[0].body.model).toBe('fake-vl');
  const user = toVlm[0].body.messages[1].content;
  const parts = Array.isArray(user) ? user : [];
  const images = parts.filter((p) => p.type === 'image_url');
  expect(images.length).toBeGreaterThanOrEqual(2);
  expect(images.length).toBeLessThanOrEqual(8);
  expect(fake.requests.filter((q) => q.path.startsWith('/det/')).every((q) => q.auth === undefined)).toBe(true); // the vlm key goes to the vlm only

  const line = JSON.parse(readFileSync(output, 'utf8').trim()) as { status: string; caption: string; omni_detective_trajectory: DetectiveRound[]; models: { observers: string[] } };
  expect(line.status).toBe('ok');
  expect(line.models.observers).toEqual(['video', 'vlm:fake-vl']);
  const round = line.omni_detective_trajectory.find((x): x is Extract<DetectiveRound, { status: 'ok' }> => x.status === 'ok' && x.tool === 'vlm');
  expect(round?.question).toBe('What happens in the video?');
  const times = frameTimes(parts);
  expect((round!.data as VlmData).frames.map((f) => Number(f.time.toFixed(1)))).toEqual(times);
  expect(line.caption).toContain(`A vision model (fake-vl), shown frames at ${times.slice(0, -1).map((t) => t.toFixed(1)).join(', ')} and ${times.at(-1)!.toFixed(1)} s, describes the picture: a red car drives past a tree.`);
}, 180_000);

it('serve --vlm-url --vlm-model serves the observer at POST /v1/observers/vlm', async () => {
  fake.requests.length = 0;
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--quiet', '--media-root', dir, '--vlm-url', `${origin}/vlm/v1`, '--vlm-model', 'fake-vl', '--vlm-api-key', 'sk-flag'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await until(() => /ready, model/.test(out), [[child.stdout, 'data']], 'serve ready', 120_000);
    const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
    const list = (await (await fetch(`${url}/v1/observers`)).json()) as { data: Array<{ name: string; modality: string; answersQuestions?: boolean }> };
    expect(list.data.find((o) => o.name === 'vlm')).toMatchObject({ modality: 'visual', answersQuestions: true });
    const res = await fetch(`${url}/v1/observers/vlm`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ path: video.path, question: 'What happens?' }) });
    const body = (await res.json()) as { answer: string; data: VlmData };
    expect(res.status).toBe(200);
    expect(body.answer).toMatch(/^Seen in frames at [\d., and]+ s: a red car drives past a tree$/);
    expect(body.data.model).toBe('fake-vl');
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0].auth).toBe('Bearer sk-flag');
  } finally {
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }
}, 180_000);
