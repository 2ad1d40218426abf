/**
 * Annotation jobs over HTTP (POST/GET/DELETE /v1/annotations, its event stream): a real server on
 * loopback, real ffmpeg, real observers (signal analysis and Whisper ASR), the jobs journaled under
 * a temp data directory; the detective LLM is the scripted OpenAI-compatible server on loopback
 * (test/queue/fake-llm.ts: its caption is the clip's fact sheet, so it carries the ASR transcript).
 * Responses are validated against the server's own OpenAPI document.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import { createToolbox, defaultObservers, type DetectiveToolbox } from '../../src/detective';
import { LocalAnnotationJobs } from '../../src/detective/jobs';
import type { Captioner } from '../../src/engine/types';
import { createLlm, type ChatModel } from '../../src/llm';
import { SPEECH, SPEECH_TEXT } from '../detective/media';
import { FakeLlm } from '../queue/fake-llm';
import { expectError, loadTiny, parseSse, postJson, SPEECH_7S, start, wavBase64, wavBytes, type Started } from './helpers';

type Json = Record<string, unknown>;
interface Doc {
  paths: Record<string, Record<string, { responses: Record<string, Json> }>>;
  components: { schemas: Record<string, Json>; responses: Record<string, Json> };
}
interface JobBody {
  id: string;
  status: string;
  rounds: Array<{ round: number; status: string; tool?: string; answer?: string }>;
  result?: { id: unknown; status: string; caption: string; media: { path: string }; omni_detective_trajectory: unknown[] };
  error?: { code: string; message: string };
  created_at: string;
  started_at?: string;
  finished_at?: string;
}

const tmp = mkdtempSync(join(tmpdir(), 'omnicap-annotations-'));
const mediaRoot = join(tmp, 'media');
let captioner: Captioner;
let fake: FakeLlm;
let llm: ChatModel;
let toolbox: DetectiveToolbox;
let jobs: LocalAnnotationJobs;
let small: LocalAnnotationJobs;
let signalOnly: DetectiveToolbox;
let fast: LocalAnnotationJobs;
let srv: Started;
let quick: Started;
let tight: Started;
let doc: Doc;
let ajv: Ajv2020;

beforeAll(async () => {
  mkdirSync(mediaRoot, { recursive: true });
  copyFileSync(SPEECH, join(mediaRoot, 'speech.wav'));
  captioner = await loadTiny();
  fake = await new FakeLlm().start();
  llm = await createLlm({ kind: 'openai', url: fake.url, model: 'fake-detective' });
  toolbox = createToolbox({ observers: defaultObservers().filter((o) => o.name === 'signal' || o.name === 'asr') });
  jobs = await LocalAnnotationJobs.open({ dataDir: join(tmp, 'jobs'), llm, toolbox, run: { promptVersion: 'v4' }, maxMediaBytes: 25 * 1024 * 1024 });
  srv = await start({ captioner, annotations: jobs, mediaRoots: [mediaRoot] });
  // the signal observer only: a job reaches its LLM call at once
  signalOnly = createToolbox({ observers: defaultObservers().filter((o) => o.name === 'signal') });
  fast = await LocalAnnotationJobs.open({ dataDir: join(tmp, 'quick'), llm, toolbox: signalOnly, maxMediaBytes: 25 * 1024 * 1024 });
  quick = await start({ captioner, annotations: fast });
  // two jobs at most, small uploads: the 429 and 413 server
  small = await LocalAnnotationJobs.open({ dataDir: join(tmp, 'small'), llm, toolbox: signalOnly, maxPending: 2, maxMediaBytes: 120_000 });
  tight = await start({ captioner, annotations: small, maxUploadBytes: 120_000, maxBufferedBytes: 16 * 1024 * 1024, mediaRoots: [mediaRoot], refusalHoldMs: 0 });
  const res = await fetch(`${srv.url}/openapi.json`);
  doc = (await res.json()) as Doc;
  ajv = new Ajv2020({ strict: false, discriminator: true, allErrors: true });
  ajv.addSchema(doc, 'openapi.json');
}, 120_000);

afterAll(async () => {
  fake?.release();
  await srv?.server.close();
  await tight?.server.close();
  await quick?.server.close();
  await fast?.dispose();
  await signalOnly?.dispose();
  await jobs?.dispose();
  await small?.dispose();
  await toolbox?.dispose();
  await llm?.dispose();
  await fake?.stop();
  await captioner?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

function validator(path: string, method: string, status: number): ValidateFunction {
  const response = doc.paths[path]?.[method]?.responses[String(status)];
  if (response === undefined) throw new Error(`${method} ${path} documents no ${status}`);
  const ref = (response as { $ref?: string }).$ref;
  const resolved = ref !== undefined ? doc.components.responses[ref.split('/').pop() ?? ''] : response;
  const schema = ((resolved as { content: Record<string, { schema: { $ref: string } }> }).content['application/json']).schema;
  return ajv.compile({ $ref: `openapi.json${schema.$ref}` });
}
const schemaOf = (name: string): ValidateFunction => ajv.compile({ $ref: `openapi.json#/components/schemas/${name}` });

function expectValid(validate: ValidateFunction, body: unknown): void {
  const ok = validate(body);
  expect({ ok, errors: validate.errors ?? null }).toEqual({ ok: true, errors: null });
}

/** The whole event stream of a job (it ends after the result, the error or the cancellation). */
async function events(url: string, id: string): Promise<Array<{ event?: string; data: unknown }>> {
  const res = await fetch(`${url}/v1/annotations/${id}/events`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return parseSse(await res.text()).map((e) => ({ event: e.event, data: JSON.parse(e.data) as unknown }));
}

async function submit(url: string, body: unknown): Promise<string> {
  const res = await postJson(`${url}/v1/annotations`, body);
  const json = (await res.json()) as { id: string; status: string };
  expect({ status: res.status, body: json }).toEqual({ status: 202, body: { id: expect.any(String), status: 'queued' } });
  expect(res.headers.get('location')).toBe(`/v1/annotations/${json.id}`);
  return json.id;
}

const jobDirs = (dir: string): string[] => readdirSync(dir).filter((n) => !n.startsWith('.'));

/** Processes this process started that are still running (ps itself excluded). */
function children(): string[] {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !/\bps$/.test(l));
}

test('POST an upload -> 202; the event stream brings the rounds, then the result whose caption carries the spoken words; GET serves the same', async () => {
  const form = new FormData();
  form.append('file', new Blob([wavBytes(SPEECH)]), 'austen.wav');
  const res = await fetch(`${srv.url}/v1/annotations`, { method: 'POST', body: form });
  const accepted = (await res.json()) as { id: string; status: string };
  expect(res.status).toBe(202);
  expectValid(validator('/v1/annotations', 'post', 202), accepted);
  const stream = await events(srv.url, accepted.id);
  const names = stream.map((e) => e.event);
  expect(names[0]).toBe('status');
  expect(names.slice(-2)).toEqual(['status', 'result']);
  expect(stream.at(-2)?.data).toEqual({ status: 'done' });
  const rounds = stream.filter((e) => e.event === 'round').map((e) => e.data as JobBody['rounds'][number]);
  for (const r of rounds) expectValid(schemaOf('DetectiveRound'), r);
  const asr = rounds.find((r) => r.tool === 'asr');
  expect(asr?.status).toBe('ok');
  const result = stream.at(-1)?.data as NonNullable<JobBody['result']>;
  expectValid(schemaOf('AnnotationResult'), result);
  expect(['ok', 'degraded']).toContain(result.status); // the scripted caption may fail its checks: then the fact sheet is the caption
  expect(result.media.path).toBe('austen.wav'); // the client's name, never the journal's path
  const heard = SPEECH_TEXT.split(' ').filter((w) => result.caption.toLowerCase().includes(w));
  expect(heard.length).toBeGreaterThanOrEqual(4);
  expect(result.omni_detective_trajectory).toEqual(rounds);

  const got = await fetch(`${srv.url}/v1/annotations/${accepted.id}`);
  const job = (await got.json()) as JobBody;
  expect(got.status).toBe(200);
  expectValid(validator('/v1/annotations/{id}', 'get', 200), job);
  expect(job).toEqual({ id: accepted.id, status: 'done', rounds, result, created_at: expect.any(String), started_at: expect.any(String), finished_at: expect.any(String) });
  expect(Date.parse(job.finished_at ?? '')).toBeGreaterThanOrEqual(Date.parse(job.started_at ?? ''));
  // the journal holds the end, fsynced: the record the client saw
  const lines = readFileSync(join(tmp, 'jobs', accepted.id, 'events.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { type: string; status?: string; record?: unknown });
  expect(lines.at(-1)).toEqual(expect.objectContaining({ type: 'end', status: 'done', record: result }));
  // a stream opened after the end replays it
  const again = await events(srv.url, accepted.id);
  expect(again.map((e) => e.event)).toEqual(['status', ...rounds.map(() => 'round'), 'result']);
  expect(again[0].data).toEqual({ status: 'done' });
  expect(again.at(-1)?.data).toEqual(result);
}, 180_000);

test('a path under the media root is copied into the job; paths outside are refused and leave nothing', async () => {
  const before = jobDirs(join(tmp, 'jobs'));
  await expectError(await postJson(`${srv.url}/v1/annotations`, { path: '../../etc/passwd' }), 403, 'FORBIDDEN_PATH');
  await expectError(await postJson(`${srv.url}/v1/annotations`, { path: '/etc/passwd' }), 403, 'FORBIDDEN_PATH');
  expect(jobDirs(join(tmp, 'jobs'))).toEqual(before);
  fake.hold();
  try {
    const id = await submit(srv.url, { path: 'speech.wav' });
    const cancelled = await fetch(`${srv.url}/v1/annotations/${id}`, { method: 'DELETE' });
    expect(((await cancelled.json()) as JobBody).status).toBe('cancelled');
    // Buffer.equals: jest's element-wise toEqual of 96 kB blocks the event loop for seconds
    expect(readFileSync(join(tmp, 'jobs', id, 'media.wav')).equals(readFileSync(SPEECH))).toBe(true);
  } finally {
    fake.release();
  }
}, 120_000);

test('unknown ids: 404 JOB_NOT_FOUND on GET, DELETE and the event stream', async () => {
  for (const id of ['00000000-0000-4000-8000-000000000000', 'not-a-job', '..%2F..%2Fetc']) {
    const body = await expectError(await fetch(`${srv.url}/v1/annotations/${id}`), 404, 'JOB_NOT_FOUND');
    expectValid(validator('/v1/annotations/{id}', 'get', 404), body);
    await expectError(await fetch(`${srv.url}/v1/annotations/${id}`, { method: 'DELETE' }), 404, 'JOB_NOT_FOUND');
    await expectError(await fetch(`${srv.url}/v1/annotations/${id}/events`), 404, 'JOB_NOT_FOUND');
  }
});

/** Resolves when the job reaches `status` (the jobs' own event, no polling). */
function reaches(service: LocalAnnotationJobs, id: string, status: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    void service.watch(id, (e) => e.type === 'status' && e.status === status && resolve()).then((w) => (w?.view.status === status ? resolve() : undefined), reject);
  });
}

test('DELETE of a job running its observers: it stops, no process it started is left, status cancelled', async () => {
  fake.hold();
  try {
    const before = new Set(children());
    const id = await submit(srv.url, { data: wavBase64(SPEECH) });
    await reaches(jobs, id, 'running');
    const del = await fetch(`${srv.url}/v1/annotations/${id}`, { method: 'DELETE' });
    const body = (await del.json()) as JobBody;
    expect(del.status).toBe(200);
    expectValid(validator('/v1/annotations/{id}', 'delete', 200), body);
    expect(body).toEqual(expect.objectContaining({ status: 'cancelled', started_at: expect.any(String), finished_at: expect.any(String) }));
    expect(children().filter((c) => !before.has(c))).toEqual([]);
    expect(fake.byClip.has(id)).toBe(false);
  } finally {
    fake.release();
  }
}, 120_000);

test('DELETE: a queued job never runs; a job waiting in its LLM call is aborted (the call ends) -> cancelled', async () => {
  fake.hold();
  let running = '';
  let queued = '';
  try {
    running = await submit(quick.url, { data: wavBase64(SPEECH) });
    // it runs its observer, then waits in its LLM call
    await fake.until(() => fake.byClip.has(running), 'the running job to call the LLM');
    queued = await submit(quick.url, { data: wavBase64(SPEECH) });
    const q = (await (await fetch(`${quick.url}/v1/annotations/${queued}`)).json()) as JobBody;
    expect(q.status).toBe('queued');
    const stream = events(quick.url, running);
    const abortedBefore = fake.aborted;
    const delQ = await fetch(`${quick.url}/v1/annotations/${queued}`, { method: 'DELETE' });
    const qBody = (await delQ.json()) as JobBody;
    expect(delQ.status).toBe(200);
    expect(qBody).toEqual(expect.objectContaining({ status: 'cancelled', rounds: [], finished_at: expect.any(String) }));
    expect(qBody.started_at).toBeUndefined();
    const delR = await fetch(`${quick.url}/v1/annotations/${running}`, { method: 'DELETE' });
    expect(((await delR.json()) as JobBody).status).toBe('cancelled');
    await fake.until(() => fake.aborted > abortedBefore, 'the held LLM call to be aborted');
    const seen = await stream;
    expect(seen.at(-1)).toEqual({ event: 'status', data: { status: 'cancelled' } });
  } finally {
    fake.release();
  }
  // the queued one never ran: no LLM call, no 'running' in its journal; both stay cancelled
  expect(fake.byClip.has(queued)).toBe(false);
  const journal = readFileSync(join(tmp, 'quick', queued, 'events.jsonl'), 'utf8');
  expect(journal).not.toContain('"running"');
  for (const id of [queued, running]) expect(((await (await fetch(`${quick.url}/v1/annotations/${id}`)).json()) as JobBody).status).toBe('cancelled');
}, 120_000);

test('a flood: jobs past --max-jobs get 429 QUEUE_FULL with Retry-After; an upload over the limit gets 413 and leaves nothing on disk', async () => {
  fake.hold();
  const accepted: string[] = [];
  try {
    const data = wavBase64(SPEECH);
    const answers = await Promise.all(Array.from({ length: 12 }, () => postJson(`${tight.url}/v1/annotations`, { data })));
    const refused = answers.filter((r) => r.status === 429);
    for (const r of answers.filter((x) => x.status === 202)) accepted.push(((await r.json()) as { id: string }).id);
    expect(accepted.length).toBe(2);
    expect(refused.length).toBe(10);
    for (const r of refused) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const body = await expectError(r, 429, 'QUEUE_FULL');
      expectValid(validator('/v1/annotations', 'post', 429), body);
    }
    expect(jobDirs(join(tmp, 'small')).sort()).toEqual([...accepted].sort());
    for (const id of accepted) await fetch(`${tight.url}/v1/annotations/${id}`, { method: 'DELETE' });
    // now there is room, but the clip is too large (multipart and base64): 413, nothing kept
    const form = new FormData();
    form.append('file', new Blob([wavBytes(SPEECH_7S)]), 'long.wav');
    await expectError(await fetch(`${tight.url}/v1/annotations`, { method: 'POST', body: form }), 413, 'PAYLOAD_TOO_LARGE');
    const big = await postJson(`${tight.url}/v1/annotations`, { data: wavBase64(SPEECH_7S) });
    expect(big.status).toBe(413);
    expect(readdirSync(join(tmp, 'small')).sort()).toEqual([...accepted].sort());
  } finally {
    fake.release();
  }
}, 120_000);

test('the OpenAPI document names the annotation routes exactly when the server runs jobs', async () => {
  const paths = Object.keys(doc.paths).filter((p) => p.startsWith('/v1/annotations'));
  expect(paths.sort()).toEqual(['/v1/annotations', '/v1/annotations/{id}', '/v1/annotations/{id}/events']);
  expect(Object.keys(doc.paths['/v1/annotations/{id}']).sort()).toEqual(['delete', 'get']);
  const plain = await start({ captioner });
  try {
    const d = (await (await fetch(`${plain.url}/openapi.json`)).json()) as Doc;
    expect(Object.keys(d.paths).filter((p) => p.startsWith('/v1/annotations'))).toEqual([]);
    await expectError(await postJson(`${plain.url}/v1/annotations`, { data: wavBase64(SPEECH) }), 404, 'NOT_FOUND');
  } finally {
    await plain.server.close();
  }
});
