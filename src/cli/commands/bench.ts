import { writeFile } from 'node:fs/promises';
import { OmnicapError } from '../../errors';
import { defaultModelDir } from '../../util/paths';
import { GENERATION_LIMITS } from '../../schema/limits';
import { numberFlag, parseCommandArgs } from '../args';
import type { CliCommand, CliIo } from '../types';

const usage = `Usage: omnicap bench [options]

Latency benchmark of the captioner engine (per stage: decode+resample, features, encoder, prefill,
per-token decode, time to first token, end-to-end; tokens/s, real-time factor; p50/p95/p99 over
--runs after --warmup), CPU vs CUDA side by side, the kv-transfer stage (decode step time vs past
length, fitted slope), the event-loop delay of the calling thread during captions with the engine
on the main thread vs on a worker thread, and optionally a concurrency sweep against a running server.
Decoding is greedy with EOS ignored, so every run decodes exactly --max-tokens tokens.
Percentiles: linear interpolation between closest ranks (type 7, NumPy default).

Options:
  --model DIR            model directory (default: the bundled tiny fixture; with --server and
                         no --model only the server is benchmarked)
  --input FILE           audio/video file (default: a 7.1 s librivox clip); cut to 30 s
  --runs N               measured runs per provider (default 5)
  --warmup N             warm-up runs per provider (default 1)
  --providers LIST       comma list of cpu,cuda (default cpu,cuda; an unavailable one is reported
                         as 'unavailable: <reason>')
  --max-tokens N         tokens per run / max_tokens per request (default 32)
  --threads N            intra-op threads per session
  --kv-past LIST         past lengths for the kv-transfer stage, run on the JS and the resident
                         KV path in the same run (default 0,64,128,256,512; 'none' skips)
  --runtimes LIST        engine runtimes for the event-loop stage: main,worker (default both; 'none' skips)
  --skip-checksums       do not sha256 model files on load
  --server URL           sweep POST URL/v1/captions (base64 JSON body)
  --concurrency LIST     concurrency levels (default 1,2,4,8)
  --requests N           requests per level (default 16)
  --api-key KEY          bearer token for the server
  --json FILE            write the JSON report
  --html FILE            write a self-contained HTML report (inline SVG charts)
`;

const options = {
  model: { type: 'string' },
  input: { type: 'string' },
  runs: { type: 'string' },
  warmup: { type: 'string' },
  providers: { type: 'string' },
  'max-tokens': { type: 'string' },
  threads: { type: 'string' },
  'kv-past': { type: 'string' },
  runtimes: { type: 'string' },
  'skip-checksums': { type: 'boolean' },
  server: { type: 'string' },
  concurrency: { type: 'string' },
  requests: { type: 'string' },
  'api-key': { type: 'string' },
  json: { type: 'string' },
  html: { type: 'string' },
} as const;

export function intList(name: string, value: string | undefined, fallback: number[], min: number): number[] {
  if (value === undefined) return fallback;
  const parts = value.split(',').map((s) => s.trim());
  return parts.map((p) => numberFlag(name, p, 0, { integer: true, min }));
}

export function providerList(value: string | undefined): Array<'cpu' | 'cuda'> {
  if (value === undefined) return ['cpu', 'cuda'];
  const out: Array<'cpu' | 'cuda'> = [];
  for (const p of value.split(',').map((s) => s.trim())) {
    if (p !== 'cpu' && p !== 'cuda') throw new OmnicapError('INVALID_ARGUMENT', `--providers expects a comma list of cpu, cuda but received ${JSON.stringify(value)}`);
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

export function runtimeList(value: string | undefined): Array<'main' | 'worker'> {
  if (value === undefined) return ['main', 'worker'];
  if (value === 'none') return [];
  const out: Array<'main' | 'worker'> = [];
  for (const r of value.split(',').map((s) => s.trim())) {
    if (r !== 'main' && r !== 'worker') throw new OmnicapError('INVALID_ARGUMENT', `--runtimes expects a comma list of main, worker (or none) but received ${JSON.stringify(value)}`);
    if (!out.includes(r)) out.push(r);
  }
  return out;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseCommandArgs(argv, options);
  if (positionals.length > 0) throw new OmnicapError('INVALID_ARGUMENT', `bench takes no positional arguments but received ${JSON.stringify(positionals)}; see omnicap bench --help`);
  const bench = await import('../../bench');
  const server = values.server;
  const modelDir = values.model ?? (server === undefined ? defaultModelDir() : undefined);
  const report = await bench.runBench({
    command: ['omnicap', 'bench', ...argv].join(' '),
    modelDir,
    input: values.input ?? bench.DEFAULT_BENCH_INPUT,
    runs: numberFlag('runs', values.runs, 5, { integer: true, min: 1 }),
    warmup: numberFlag('warmup', values.warmup, 1, { integer: true, min: 0 }),
    maxTokens: numberFlag('max-tokens', values['max-tokens'], 32, { ...GENERATION_LIMITS.maxNewTokens, min: 2 }),
    providers: providerList(values.providers),
    ...(values.threads !== undefined ? { threads: numberFlag('threads', values.threads, 1, { integer: true, min: 1 }) } : {}),
    skipChecksums: values['skip-checksums'] === true,
    kvPast: values['kv-past'] === 'none' ? [] : intList('kv-past', values['kv-past'], bench.DEFAULT_KV_PAST, 0),
    runtimes: runtimeList(values.runtimes),
    ...(server !== undefined
      ? {
          server: {
            url: server,
            concurrency: intList('concurrency', values.concurrency, [1, 2, 4, 8], 1),
            requests: numberFlag('requests', values.requests, 16, { integer: true, min: 1 }),
            ...(values['api-key'] !== undefined ? { headers: { authorization: `Bearer ${values['api-key']}` } } : {}),
          },
        }
      : {}),
    onProgress: (line) => io.stderr.write(`bench: ${line}\n`),
    signal: io.signal,
  });
  io.stdout.write(`${bench.describeMachine(report.machine)}\n${bench.renderText(report)}\n`);
  if (values.json !== undefined) await writeFile(values.json, JSON.stringify(report, null, 2) + '\n');
  if (values.html !== undefined) await writeFile(values.html, bench.renderHtml(report));
  return 0;
}

export const command: CliCommand = {
  name: 'bench',
  summary: 'latency benchmark: engine stages (CPU vs CUDA), kv-transfer, server concurrency sweep',
  usage,
  run,
};
