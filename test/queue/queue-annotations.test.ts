/**
 * `omnicap serve --detective --queue`: annotation jobs go to the BullMQ workers. A real
 * redis-server, a real worker (startQueueWorker, real signal observer and ffmpeg), a real server on
 * loopback; the detective LLM is the scripted OpenAI-compatible server. The job's state, rounds and
 * result come from BullMQ; a queued job is cancelled before any worker runs it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadDetectivePrompts, promptRecords } from '../../src/detective';
import { makeManifest, parseQueueUrl, QueuedAnnotationJobs, startQueueWorker } from '../../src/detective/queue';
import type { Captioner } from '../../src/engine/types';
import { loadTiny, parseSse, postJson, start, wavBase64, type Started } from '../server/helpers';
import { FakeLlm } from './fake-llm';
import { OPTIONS } from './helpers';
import { RedisServer } from './redis';

const CLIP = '/usr/share/sounds/alsa/Front_Center.wav';
const tmp = mkdtempSync(join(tmpdir(), 'omnicap-queue-ann-'));
let redis: RedisServer;
let fake: FakeLlm;
let captioner: Captioner;
let jobs: QueuedAnnotationJobs;
let srv: Started;

interface JobBody {
  id: string;
  status: string;
  rounds: Array<{ tool?: string; status: string; answer?: string }>;
  result?: { id: unknown; status: string; caption: string; media: { path: string }; omni_detective_trajectory: unknown[] };
}

beforeAll(async () => {
  redis = await RedisServer.start();
  fake = await new FakeLlm().start();
  captioner = await loadTiny();
  const dataDir = join(tmp, 'annotations');
  const manifest = makeManifest({
    input: { path: `omnicap serve ${dataDir}`, digest: 'serve', clips: 0 },
    prompts: promptRecords(loadDetectivePrompts('v2')),
    llm: { kind: 'openai', url: fake.url, model: 'fake-detective' },
    observers: { names: ['signal'] },
    options: OPTIONS,
    policy: { attempts: 1, backoffMs: 100, jobTimeoutMs: 0 },
  });
  jobs = await QueuedAnnotationJobs.open({ location: parseQueueUrl(redis.url()), queueName: 'ann', dataDir, manifest, maxMediaBytes: 25 * 1024 * 1024, pollMs: 100 });
  srv = await start({ captioner, annotations: jobs });
}, 120_000);

afterAll(async () => {
  await srv?.server.close();
  await jobs?.dispose();
  await captioner?.dispose();
  await fake?.stop();
  await redis?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

async function submit(): Promise<string> {
  const res = await postJson(`${srv.url}/v1/annotations`, { data: wavBase64(CLIP) });
  const body = (await res.json()) as { id: string; status: string };
  expect({ status: res.status, queued: body.status }).toEqual({ status: 202, queued: 'queued' });
  return body.id;
}

const get = async (id: string): Promise<JobBody> => (await (await fetch(`${srv.url}/v1/annotations/${id}`)).json()) as JobBody;

test('a job waits in the queue, a cancelled one never runs, a worker runs the other; its rounds and result come back over GET and the event stream', async () => {
  const cancelled = await submit();
  const id = await submit();
  expect((await get(id)).status).toBe('queued'); // no worker yet
  const del = await fetch(`${srv.url}/v1/annotations/${cancelled}`, { method: 'DELETE' });
  expect(((await del.json()) as JobBody).status).toBe('cancelled');

  const stream = fetch(`${srv.url}/v1/annotations/${id}/events`).then((r) => r.text());
  const worker = startQueueWorker({ location: parseQueueUrl(redis.url()), queueName: 'ann', cache: 'none', lockMs: 5000, stalledIntervalMs: 1000 });
  try {
    const events = parseSse(await stream).map((e) => ({ event: e.event, data: JSON.parse(e.data) as unknown }));
    expect(events[0]).toEqual({ event: 'status', data: { status: 'queued' } });
    expect(events.slice(-2).map((e) => e.event)).toEqual(['status', 'result']);
    expect(events.at(-2)?.data).toEqual({ status: 'done' });
    const rounds = events.filter((e) => e.event === 'round').map((e) => e.data as JobBody['rounds'][number]);
    expect(rounds.find((r) => r.tool === 'signal')?.answer).toMatch(/LUFS/);
    const result = events.at(-1)?.data as NonNullable<JobBody['result']>;
    expect(result.caption).toMatch(/\S/);
    expect(result.media.path).toBe('base64');
    const job = await get(id);
    expect(job.status).toBe('done');
    expect(job.result).toEqual(result);
    expect(job.rounds).toEqual(result.omni_detective_trajectory);
    // the cancelled job failed in the queue without running: no LLM call for it
    const c = await get(cancelled);
    expect(c.status).toBe('cancelled');
    expect(fake.byClip.has(cancelled)).toBe(false);
    expect(fake.byClip.get(id)).toBeGreaterThan(0);
  } finally {
    await worker.dispose();
  }
}, 180_000);
