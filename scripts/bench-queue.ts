/**
 * Throughput of the queue on this machine: 1, 2, 4 `omnicap worker` processes on one real
 * redis-server against ONE shared LLM endpoint (`omnicap serve --llm local`: the embedded
 * Qwen2.5-Coder-1.5B-Instruct as an OpenAI-compatible text model, or --llm-url URL --llm-model M).
 * A timing proxy in front of the endpoint records every LLM request, so the report splits each
 * clip's time into LLM requests (including waiting at the shared endpoint) and the rest (probe,
 * decode, observers, queue). Observer cache off, a fresh queue per configuration.
 *
 *   npm run bench:queue -- [--clips 6] [--workers 1,2,4] [--rounds 3] [--max-caption-tokens 128]
 *                          [--observers signal,vad,asr] [--llm-url URL --llm-model M] [--json out.json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, createServer as netServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../src/util/paths';

const CLI = join(packageRoot(), 'dist', 'src', 'cli', 'main.js');
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

function start(args: string[], log: string[]): ChildProcess {
  const c = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OMNICAP_EXIT_WITH_PARENT: '0' } });
  c.stdout?.on('data', (d: Buffer) => log.push(d.toString()));
  c.stderr?.on('data', (d: Buffer) => log.push(d.toString()));
  return c;
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

async function main(): Promise<void> {
  const { values: v } = parseArgs({ options: { clips: { type: 'string' }, workers: { type: 'string' }, rounds: { type: 'string' }, 'max-caption-tokens': { type: 'string' }, observers: { type: 'string' }, 'llm-url': { type: 'string' }, 'llm-model': { type: 'string' }, json: { type: 'string' } } });
  const nClips = Number(v.clips ?? 6);
  const workerCounts = (v.workers ?? '1,2,4').split(',').map(Number);
  const dir = mkdtempSync(join(tmpdir(), 'omnicap-bench-queue-'));
  const log: string[] = [];
  const input = join(dir, 'input.jsonl');
  writeFileSync(input, CLIPS.slice(0, nClips).map((p, i) => JSON.stringify({ id: `c${i}`, path: p })).join('\n') + '\n');
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--daemonize', 'no'], { stdio: 'ignore' });
  let serve: ChildProcess | undefined;
  let llmUrl = v['llm-url'];
  let llmModel = v['llm-model'];
  const results: Array<Record<string, number>> = [];
  try {
    await waitFor(() => tcpOpen(redisPort), 10_000, 'redis-server');
    if (llmUrl === undefined) {
      const port = await freePort();
      serve = start(['serve', '--llm', 'local', '--port', String(port), '--quiet'], log);
      await waitFor(async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined))?.ok === true, 300_000, 'omnicap serve --llm local');
      llmUrl = `http://127.0.0.1:${port}/v1`;
      llmModel = 'qwen2.5-coder-1.5b-instruct-q4_k_m';
    }
    const proxy = await timingProxy(llmUrl.replace(/\/v1\/?$/, ''));
    const url = `redis://127.0.0.1:${redisPort}/0`;
    for (const n of workerCounts) {
      const queue = `bench-${n}`;
      const out = join(dir, `out-${n}.jsonl`);
      const wlog: string[] = [];
      const workers = Array.from({ length: n }, () => start(['worker', '--queue', url, '--queue-name', queue, '--concurrency', '1', '--cache', 'none'], wlog));
      proxy.spans.length = 0;
      const t0 = Date.now();
      const load0 = loadavg()[0];
      const producer = start(['detect', '--queue', url, '--queue-name', queue, '--input', input, '--output', out, '--llm-url', proxy.url, '--llm-model', llmModel ?? '', '--observers', v.observers ?? 'signal,vad,asr', '--rounds', v.rounds ?? '3', '--max-caption-tokens', v['max-caption-tokens'] ?? '128', '--progress', 'none'], log);
      const code = await new Promise<number | null>((r) => producer.on('exit', (c) => r(c)));
      const wall = (Date.now() - t0) / 1000;
      await Promise.all(workers.map(stop));
      if (code !== 0) throw new Error(`producer exited ${code}: ${log.join('').slice(-2000)} ${wlog.join('').slice(-2000)}`);
      const lines = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { status: string; seconds: number; llm_calls: number; tokens: { prompt: number; completion: number } });
      const clipSeconds = lines.reduce((a, l) => a + l.seconds, 0);
      const llmSeconds = proxy.spans.reduce((a, [s, e]) => a + (e - s), 0) / 1000;
      const r = {
        workers: n,
        clips: lines.length,
        ok: lines.filter((l) => l.status === 'ok').length,
        wallSeconds: Math.round(wall * 10) / 10,
        clipsPerMinute: Math.round((lines.length / wall) * 60 * 100) / 100,
        meanClipSeconds: Math.round((clipSeconds / lines.length) * 10) / 10,
        llmSecondsPerClip: Math.round((llmSeconds / lines.length) * 10) / 10,
        otherSecondsPerClip: Math.round(((clipSeconds - llmSeconds) / lines.length) * 10) / 10,
        llmRequestsPerClip: Math.round((proxy.spans.length / lines.length) * 10) / 10,
        meanLlmRequestSeconds: Math.round((llmSeconds / Math.max(1, proxy.spans.length)) * 100) / 100,
        llmEndpointBusyPercent: Math.round((union(proxy.spans) / 1000 / wall) * 100),
        completionTokensPerClip: Math.round(lines.reduce((a, l) => a + l.tokens.completion, 0) / lines.length),
        load1Before: Math.round(load0 * 100) / 100,
        load1After: Math.round(loadavg()[0] * 100) / 100,
      };
      results.push(r);
      process.stderr.write(`${JSON.stringify(r)}\n`);
    }
    proxy.close();
  } finally {
    if (serve !== undefined) await stop(serve);
    await stop(redis);
    rmSync(dir, { recursive: true, force: true });
  }
  const cols = ['workers', 'clips', 'ok', 'wallSeconds', 'clipsPerMinute', 'meanClipSeconds', 'llmSecondsPerClip', 'otherSecondsPerClip', 'llmRequestsPerClip', 'meanLlmRequestSeconds', 'llmEndpointBusyPercent', 'load1Before', 'load1After'];
  process.stdout.write(`| ${cols.join(' | ')} |\n|${cols.map(() => '---').join('|')}|\n${results.map((r) => `| ${cols.map((c) => r[c]).join(' | ')} |`).join('\n')}\n`);
  if (v.json !== undefined) writeFileSync(v.json, JSON.stringify(results, null, 2));
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-queue: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
