/**
 * `omnicap cascade eval` as a real child process (dist/src/cli/main.js, built by `npm run build:ts`)
 * killed with SIGKILL mid-run, then resumed: no finished line is lost or duplicated, a torn last
 * line is dropped and redone, and the rerun asks only the questions without a line. The answerer
 * is a scripted OpenAI-compatible endpoint on loopback that stops answering after the 6th request,
 * so the kill lands at a known point.
 */
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import express from 'express';
import { packageRoot } from '../../src/util/paths';
import { listenLoopback, type Loopback } from '../loopback';
import { fakeAnswer } from './fake-answerer';

const CLI = path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
const FIX = path.join(__dirname, '..', 'fixtures', 'cascade');
const QA = path.join(FIX, 'qa-mmar.jsonl');
const TRUTH = path.join(FIX, 'captions-truth.jsonl');

let endpoint: Loopback;
let url = '';
let answered = 0;
let requests = 0;
/** Requests beyond this number are held (never answered) until the limit is lifted. */
let holdAfter = Infinity;
let onRequest: (n: number) => void = () => undefined;

beforeAll(async () => {
  const app = express();
  app.use(express.json({ limit: '5mb' }));
  app.post('/v1/chat/completions', (req, res) => {
    const n = ++requests;
    onRequest(n);
    if (n > holdAfter) return; // held: the client waits until it is killed
    answered++;
    const msgs = (req.body as { messages: Array<{ content: string }> }).messages;
    res.json({ model: 'loopback-answerer', choices: [{ message: { role: 'assistant', content: fakeAnswer(msgs[1].content) }, finish_reason: 'stop' }] });
  });
  endpoint = await listenLoopback(app);
  url = endpoint.url;
});
afterAll(async () => {
  await endpoint.close();
});

const run = (out: string) =>
  spawn(process.execPath, [CLI, 'cascade', 'eval', '--input', QA, '--captions', TRUTH, '--output', out, '--answerer-url', url, '--answerer-model', 'loopback-answerer', '--workers', '2', '--no-progress'], { stdio: ['ignore', 'pipe', 'pipe'] });
const complete = (f: string): string[] => (existsSync(f) ? readFileSync(f, 'utf8').split('\n').slice(0, -1) : []);

describe('omnicap cascade eval survives kill -9', () => {
  it('keeps every finished line, duplicates none, and asks only the rest on resume', async () => {
    expect(existsSync(CLI)).toBe(true);
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'cascade-kill-')), 'out.jsonl');
    holdAfter = 6;
    // with 2 workers a worker sends its next request only after its last line is written, so when
    // request 8 arrives, 6 lines are on disk and requests 7 and 8 are held
    const eighth = new Promise<void>((r) => (onRequest = (n) => n === 8 && r()));
    const child = run(out);
    const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
    await eighth;
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const before = complete(out);
    expect(before).toHaveLength(6);
    // as if the process had died in the middle of writing a 7th line
    appendFileSync(out, '{"id": "omq-0');

    holdAfter = Infinity;
    const answeredBefore = answered;
    const second = run(out);
    let stdout = '';
    let stderr = '';
    second.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    second.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((r) => second.on('exit', (c) => r(c)));
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toMatchObject({ questions: 24, answered: 18, skipped: 6, errors: 0, droppedPartialLine: true });
    expect(answered - answeredBefore).toBe(18);

    const after = complete(out);
    expect(readFileSync(out, 'utf8').endsWith('\n')).toBe(true);
    expect(after.slice(0, 6)).toEqual(before);
    const ids = after.map((l) => (JSON.parse(l) as { cascade: { id: string; status: string } }).cascade);
    expect(ids.every((c) => c.status === 'ok')).toBe(true);
    expect(ids.map((c) => c.id).sort()).toEqual(Array.from({ length: 24 }, (_, i) => `omq-${String(i + 1).padStart(2, '0')}`));
  }, 120_000);
});
