/**
 * `omnicap serve --detective` as a real child process, killed with SIGKILL while one job runs and
 * two wait, then started again on the same --data-dir: the accepted jobs run after the restart,
 * the job that had finished is served from the journal and never run again. Real ffmpeg and the
 * real signal observer; the detective LLM is the scripted OpenAI-compatible server on loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths';
import { FakeLlm } from '../queue/fake-llm';
import { parseSse, postJson, wavBase64 } from '../server/helpers';
import { until } from '../wait';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const CLIP = '/usr/share/sounds/alsa/Front_Center.wav';

interface JobBody {
  id: string;
  status: string;
  result?: { status: string; caption: string; media: { path: string } };
}

const tmp = mkdtempSync(join(tmpdir(), 'omnicap-serve-det-'));
let fake: FakeLlm;

beforeAll(async () => {
  fake = await new FakeLlm().start();
});
afterAll(async () => {
  fake.release();
  await fake.stop();
  rmSync(tmp, { recursive: true, force: true });
});

interface Serve {
  child: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
}

async function serve(): Promise<Serve> {
  const child = spawn(process.execPath, [CLI, 'serve', '--detective', '--port', '0', '--provider', 'cpu', '--threads', '1', '--quiet', '--data-dir', join(tmp, 'data'),
    '--llm-url', fake.url, '--llm-model', 'fake-detective', '--observers', 'signal', '--rounds', '2'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((r) => child.on('exit', (code, sig) => r(sig ?? code)));
  await until(() => /listening on http/.test(out) || child.exitCode !== null, [[child.stdout ?? child, 'data'], [child, 'exit']], 'serve to listen', 120_000);
  const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
  if (url === undefined) throw new Error(`serve did not start: ${out} ${err}`);
  return { child, url, exited };
}

async function submit(url: string): Promise<string> {
  const res = await postJson(`${url}/v1/annotations`, { data: wavBase64(CLIP) });
  expect(res.status).toBe(202);
  return ((await res.json()) as { id: string }).id;
}

/** Follows the job's event stream to its end; the job as GET then serves it. */
async function finished(url: string, id: string): Promise<JobBody> {
  const res = await fetch(`${url}/v1/annotations/${id}/events`);
  const events = parseSse(await res.text());
  expect(events.at(-1)?.event).toBe('result');
  return (await (await fetch(`${url}/v1/annotations/${id}`)).json()) as JobBody;
}

const get = async (url: string, id: string): Promise<JobBody> => (await (await fetch(`${url}/v1/annotations/${id}`)).json()) as JobBody;

test('kill -9 with a running and two queued jobs: after the restart they run; the finished job is not run again', async () => {
  expect(existsSync(CLI)).toBe(true);
  const first = await serve();
  let second: Serve | undefined;
  try {
    const done = await submit(first.url);
    const before = await finished(first.url, done);
    expect(before.status).toBe('done');
    expect(before.result?.caption).toMatch(/\S/);
    const doneCalls = fake.byClip.get(done);
    expect(doneCalls).toBeGreaterThan(0);

    fake.hold();
    const running = await submit(first.url);
    await fake.until(() => fake.byClip.has(running), 'the first job to reach the LLM');
    const queued = [await submit(first.url), await submit(first.url)];
    expect((await get(first.url, running)).status).toBe('running');
    for (const id of queued) expect((await get(first.url, id)).status).toBe('queued');

    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');
    fake.release(); // the held reply goes to a dead client

    second = await serve();
    for (const id of [running, ...queued]) {
      const job = await finished(second.url, id);
      expect(job.status).toBe('done');
      expect(['ok', 'degraded']).toContain(job.result?.status);
      expect(job.result?.caption).toMatch(/\S/);
      expect(job.result?.media.path).toBe('base64');
    }
    // the running job started again from its beginning: its journal says running twice
    const journal = readFileSync(join(tmp, 'data', 'annotations', running, 'events.jsonl'), 'utf8');
    expect(journal.match(/"status":"running"/g)?.length).toBe(2);
    // the finished job: the same record, no new LLM call
    const after = await get(second.url, done);
    expect(after).toEqual(before);
    expect(fake.byClip.get(done)).toBe(doneCalls);
  } finally {
    fake.release();
    first.child.kill('SIGKILL');
    if (second !== undefined) {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }
}, 240_000);
