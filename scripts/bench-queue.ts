/**
 * Throughput of the queue on this machine: 1, 2, 4 `omnicap worker` processes on one real
 * redis-server against ONE shared LLM endpoint (`omnicap serve --llm local`: the embedded
 * Qwen2.5-Coder-1.5B-Instruct as an OpenAI-compatible text model, or --llm-url URL --llm-model M).
 * A timing proxy in front of the endpoint records every LLM request, so the report splits each
 * clip's time into LLM requests (including waiting at the shared endpoint) and the rest (probe,
 * decode, observers, queue). Observer cache off, a fresh queue per configuration. Peak RSS: the
 * largest worker process's and the endpoint's (VmHWM), child processes not included.
 *
 * --baseline DIR runs another built checkout of omnicap (its own endpoint, workers and producer) the
 * same way in the same run, interleaved per configuration (this then the baseline, the next
 * configuration or pass the other way round), and reports clips/min of this over the baseline per
 * configuration. --passes N repeats the whole sweep.
 *
 *   npm run bench:queue -- [--clips 6] [--workers 1,2,4] [--rounds 3] [--max-caption-tokens 128]
 *                          [--observers signal,vad,asr] [--llm-url URL --llm-model M]
 *                          [--baseline DIR] [--passes 1] [--json out.json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as netServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/util/paths';

const cliOf = (checkout: string): string => join(checkout, 'dist', 'src', 'cli', 'main.js');
const LIBRI = '/usr/share/pocketsphinx/test/data/librivox';
const CLIPS = ['0870', '0880', '0890', '0920', '0930'].map((n) => `${LIBRI}/sense_and_sensibility_01_austen_64kb-${n}.wav`).concat(['001', '002', '003'].map((n) => `/usr/share/pocketsphinx/test/data/cards/${n}.wav`));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = netServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

async function waitFor(cond: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const tcpOpen = (port: number): Promise<boolean> =>
  new Promise((r) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), r(true)));
    s.once('error', () => (s.destroy(), r(false)));
  });

function start(cli: string, args: string[], log: string[]): ChildProcess {
  const c = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMNICAP_EXIT_WITH_PARENT: '0' } });
  c.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
  c.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  return c;
}

/** Peak resident set of a live process in MB (Linux VmHWM); 0 when it has gone. */
function peakRssMb(c: ChildProcess): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${c.pid}/status`, 'utf8'));
    return m === null ? 0 : Math.round(Number(m[1]) / 1024);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
}

const stop = (c: ChildProcess): Promise<void> => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r() : (c.once('exit', () => r()), c.kill('SIGTERM'))));

/** A pass-through proxy that records [start, end] of every request. */
function timingProxy(target: string): Promise<{ url: string; spans: Array<[number, number]>; close: () => void }> {
  const spans: Array<[number, number]> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const t0 = Date.now();
      fetch(`${target}${req.url ?? ''}`, { method: req.method, headers: { 'content-type': 'application/json' }, body: req.method === 'POST' ? Buffer.concat(chunks) : undefined })
        .then(async (r) => {
          const body = Buffer.from(await r.arrayBuffer());
          spans.push([t0, Date.now()]);
          res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' }).end(body);
        })
        .catch((e: unknown) => res.writeHead(502).end(String(e)));
    });
  });
  return new Promise((r) => server.listen(0, '127.0.0.1', () => {
    const a = server.address();
    r({ url: `http://127.0.0.1:${typeof a === 'object' && a !== null ? a.port : 0}/v1`, spans, close: () => server.close() });
  }));
}

/** Total time covered by the spans (overlaps counted once): how long the endpoint was busy. */
function union(spans: Array<[number, number]>): number {
  const s = [...spans].sort((a, b) => a[0] - b[0]);
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of s) {
    if (a > end) total += b - a;
    else if (b > end) total += b - end;
    end = Math.max(end, b);
  }
  return total;
}

interface Program {
  name: string;
  cli: string;
  llmUrl: string;
  llmModel: string;
  serve?: ChildProcess;
  proxy: Awaited<ReturnType<typeof timingProxy>>;
}

interface Settings {
  input: string;
  dir: string;
  redisUrl: string;
  observers: string;
  rounds: string;
  maxCaptionTokens: string;
}

/** Starts a program's `serve --llm local` endpoint (unless one was given) and its timing proxy. */
async function openProgram(name: string, checkout: string, given: { url?: string; model?: string }, log: string[]): Promise<Program> {
  const cli = cliOf(checkout);
  let serve: ChildProcess | undefined;
  let llmUrl = given.url;
  let llmModel = given.model ?? '';
  if (llmUrl === undefined) {
    const port = await freePort();
    serve = start(cli, ['serve', '--llm', 'local', '--port', String(port), '--quiet'], log);
    await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true, 300_000, `${name}: omnicap serve --llm local`);
    llmUrl = `http://127.0.0.1:${port}/v1`;
    llmModel = 'qwen2.5-coder-1.5b-instruct-q4_k_m';
  }
  return { name, cli, llmUrl, llmModel, serve, proxy: await timingProxy(llmUrl.replace(/\/v1\/?$/, '')) };
}

/** One configuration: n workers of the program drain the clips a producer enqueues. */
async function runConfig(p: Program, n: number, pass: number, s: Settings, log: string[]): Promise<Record<string, number | string>> {
  const queue = `bench-${p.name}-${n}-${pass}`;
  const out = join(s.dir, `out-${queue}.jsonl`);
  const wlog: string[] = [];
  const workers = Array.from({ length: n }, () => start(p.cli, ['worker', '--queue', s.redisUrl, '--queue-name', queue, '--concurrency', '1', '--cache', 'none'], wlog));
  p.proxy.spans.length = 0;
  const t0 = Date.now();
  const load0 = loadavg()[0];
  const producer = start(p.cli, ['detect', '--queue', s.redisUrl, '--queue-name', queue, '--input', s.input, '--output', out, '--llm-url', p.proxy.url, '--llm-model', p.llmModel, '--observers', s.observers, '--rounds', s.rounds, '--max-caption-tokens', s.maxCaptionTokens, '--progress', 'none'], log);
  const code = await new Promise<number | null>((r) => producer.on('exit', (c) => r(c)));
  const wall = (Date.now() - t0) / 1000;
  const workerPeak = Math.max(...workers.map(peakRssMb));
  await Promise.all(workers.map(stop));
  if (code !== 0) throw new Error(`${p.name}: producer exited ${code}: ${log.join('').slice(-2000)} ${wlog.join('').slice(-2000)}`);
  const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d;
  const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status: string; seconds: number; llm_calls: number; tokens: { prompt: number; completion: number }; stages_ms?: Record<string, number> });
  // the stage split of builds that record it (fixed reports, decision rounds, synthesis), seconds per clip
  const stage = (k: string): number | string => (lines.every((l) => l.stages_ms !== undefined) ? round(lines.reduce((a, l) => a + (l.stages_ms![k] ?? 0), 0) / 1000 / lines.length) : '-');
  const clipSeconds = lines.reduce((a, l) => a + l.seconds, 0);
  const llmSeconds = p.proxy.spans.reduce((a, [b, e]) => a + (e - b), 0) / 1000;
  return {
    program: p.name,
    pass,
    workers: n,
    clips: lines.length,
    ok: lines.filter((l) => l.status === 'ok').length,
    wallSeconds: round(wall),
    clipsPerMinute: round((lines.length / wall) * 60, 2),
    meanClipSeconds: round(clipSeconds / lines.length),
    llmSecondsPerClip: round(llmSeconds / lines.length),
    otherSecondsPerClip: round((clipSeconds - llmSeconds) / lines.length),
    llmRequestsPerClip: round(p.proxy.spans.length / lines.length),
    llmCallsPerClip: round(lines.reduce((a, l) => a + l.llm_calls, 0) / lines.length, 2),
    fixedReportsSecondsPerClip: stage('fixed_reports'),
    roundsSecondsPerClip: stage('rounds'),
    synthesisSecondsPerClip: stage('synthesis'),
    meanLlmRequestSeconds: round(llmSeconds / Math.max(1, p.proxy.spans.length), 2),
    llmEndpointBusyPercent: Math.round((union(p.proxy.spans) / 1000 / wall) * 100),
    promptTokensPerClip: Math.round(lines.reduce((a, l) => a + l.tokens.prompt, 0) / lines.length),
    completionTokensPerClip: Math.round(lines.reduce((a, l) => a + l.tokens.completion, 0) / lines.length),
    workerPeakRssMb: workerPeak,
    endpointPeakRssMb: p.serve === undefined ? 0 : peakRssMb(p.serve),
    load1Before: round(load0, 2),
    load1After: round(loadavg()[0], 2),
  };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main(): Promise<void> {
  const { values: v } = parseArgs({ options: { clips: { type: 'string' }, workers: { type: 'string' }, rounds: { type: 'string' }, 'max-caption-tokens': { type: 'string' }, observers: { type: 'string' }, 'llm-url': { type: 'string' }, 'llm-model': { type: 'string' }, baseline: { type: 'string' }, passes: { type: 'string' }, json: { type: 'string' } } });
  const nClips = Number(v.clips ?? 6);
  const passes = Number(v.passes ?? 1);
  const workerCounts = (v.workers ?? '1,2,4').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'omnicap-bench-queue-'));
  const log: string[] = [];
  const input = join(dir, 'input.jsonl');
  writeFileSync(input, CLIPS.slice(0, nClips).map((p, i) => JSON.stringify({ id: `c${i}`, path: p })).join('\n') + '\n');
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], { stdio: 'ignore' });
  const programs: Program[] = [];
  const results: Array<Record<string, number | string>> = [];
  try {
    await waitFor(() => tcpOpen(redisPort), 10_000, 'redis-server');
    const given = { url: v['llm-url'], model: v['llm-model'] };
    programs.push(await openProgram('this', packageRoot(), given, log));
    if (v.baseline !== undefined) programs.push(await openProgram('baseline', resolve(v.baseline), given, log));
    const settings: Settings = { input, dir, redisUrl: `redis://127.0.0.1:${redisPort}/0`, observers: v.observers ?? 'signal,vad,asr', rounds: v.rounds ?? '3', maxCaptionTokens: v['max-caption-tokens'] ?? '128' };
    let turn = 0;
    for (let pass = 0; pass < passes; pass++) {
      for (const n of workerCounts) {
        for (const p of turn++ % 2 === 0 ? programs : [...programs].reverse()) {
          const r = await runConfig(p, n, pass, settings, log);
          results.push(r);
          process.stderr.write(`${JSON.stringify(r)}\n`);
        }
      }
    }
  } finally {
    for (const p of programs) {
      p.proxy.close();
      if (p.serve !== undefined) await stop(p.serve);
    }
    await stop(redis);
    rmSync(dir, { recursive: true, force: true });
  }
  const cols = ['program', 'pass', 'workers', 'clips', 'ok', 'wallSeconds', 'clipsPerMinute', 'meanClipSeconds', 'llmSecondsPerClip', 'otherSecondsPerClip', 'llmRequestsPerClip', 'llmCallsPerClip', 'fixedReportsSecondsPerClip', 'roundsSecondsPerClip', 'synthesisSecondsPerClip', 'promptTokensPerClip', 'completionTokensPerClip', 'llmEndpointBusyPercent', 'workerPeakRssMb', 'endpointPeakRssMb', 'load1Before', 'load1After'];
  process.stdout.write(`| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|\n${results.map((r) => `| ${cols.map((c) => r[c]).join(' | ')} |`).join('\n')}\n`);
  const ratios = programs.length < 2 ? [] : workerCounts.map((n) => {
    const cpm = (name: string): number => median(results.filter((r) => r.program === name && r.workers === n).map((r) => Number(r.clipsPerMinute)));
    return { workers: n, ratio: Math.round((cpm('this') / cpm('baseline')) * 100) / 100 };
  });
  for (const r of ratios) process.stdout.write(`clips/min this/baseline, ${r.workers} worker(s): ${r.ratio}x\n`);
  if (v.json !== undefined) writeFileSync(v.json, JSON.stringify({ results, ratios }, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-queue: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
