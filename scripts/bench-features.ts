/**
 * Log-mel throughput benchmark (not a test): native addon vs pure TS vs the Python reference
 * (transformers WhisperFeatureExtractor, torch CPU, 1 thread) on the same 30 s clip built from
 * real librivox speech. Run: `npm run build:native && npx tsc -p tsconfig.json && npm run bench:features`.
 * Flags: --seconds N (default 30), --runs N (timed runs after one warm-up, default 5; median reported).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { computeLogMel, computeLogMelSync, isNativeAvailable } from '../src/features';

interface WavDecoderModule {
  decode: { sync(buf: Buffer, opts?: { symmetric?: boolean }): { sampleRate: number; channelData: Float32Array[] } };
}

const LIBRIVOX = '/usr/share/pocketsphinx/test/data/librivox';
const CLIPS = ['0870', '0880', '0890', '0920', '0930'].map((n) => `${LIBRIVOX}/sense_and_sensibility_01_austen_64kb-${n}.wav`);

function repoRoot(): string {
  let d = __dirname;
  while (!existsSync(path.join(d, 'package.json'))) {
    const up = path.dirname(d);
    if (up === d) throw new Error('package.json not found above ' + __dirname);
    d = up;
  }
  return d;
}

function clip(seconds: number): Float32Array {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const wav = require('wav-decoder') as WavDecoderModule;
  const parts = CLIPS.map((f) => wav.decode.sync(readFileSync(f), { symmetric: true }).channelData[0]);
  const n = Math.round(seconds * 16000);
  const out = new Float32Array(n);
  let o = 0;
  for (let i = 0; o < n; i++) {
    const p = parts[i % parts.length];
    const take = Math.min(p.length, n - o);
    out.set(p.subarray(0, take), o);
    o += take;
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function time(label: string, seconds: number, runs: number, fn: () => Promise<unknown> | unknown): Promise<void> {
  await fn(); // warm-up
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  const m = median(ms);
  console.log(`${label.padEnd(28)} ${m.toFixed(2).padStart(9)} ms  ${(seconds / (m / 1000)).toFixed(0).padStart(7)}x realtime  (first ${ms[0].toFixed(2)} ms, median of ${runs})`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string, d: number): number => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? Number(args[i + 1]) : d;
  };
  const seconds = flag('seconds', 30);
  const runs = flag('runs', 5);
  const samples = clip(seconds);
  console.log(`log-mel [128, ${Math.floor(samples.length / 160)}] of ${seconds} s real speech (librivox), node ${process.version}, ${process.arch}`);
  if (isNativeAvailable()) {
    await time('native (AsyncWorker)', seconds, runs, () => computeLogMel(samples, { backend: 'native' }));
    await time('native (sync)', seconds, runs, () => computeLogMelSync(samples, { backend: 'native' }));
  } else {
    console.log('native: skipped: addon not built (npm run build:native)');
  }
  await time('ts', seconds, runs, () => computeLogMelSync(samples, { backend: 'ts' }));
  const py = path.join(repoRoot(), '.venv', 'bin', 'python');
  if (!existsSync(py)) {
    console.log('python-transformers: skipped: no venv');
    return;
  }
  const r = spawnSync(py, [path.join(repoRoot(), 'scripts', 'golden', 'features.py'), '--bench', '--seconds', String(seconds)], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`python-transformers: failed: ${r.stderr.trim().split('\n').pop() ?? ''}`);
    return;
  }
  const res = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { ms: number; xRealtime: number };
  console.log(`${'python-transformers (1 thr)'.padEnd(28)} ${res.ms.toFixed(2).padStart(9)} ms  ${res.xRealtime.toFixed(0).padStart(7)}x realtime  (torch CPU, one run after warm-up)`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
