#!/usr/bin/env node
// Loads an exported CPU build (e.g. a --synthetic-checkpoint export) and reports, as one JSON line, what
// docs/benchmarks.md "Full-size synthetic checkpoint" tabulates:
//  engine:  loadCaptioner(dir, {provider: 'cpu', threads: 1, runtime: 'main'}) — load CPU time, RSS after load and
//           peak, and decode CPU ms/token from two greedy captions of cards/001.wav (N and 3N new tokens);
//  decoder: decoder.onnx alone in onnxruntime-node (CPU EP, 1 thread, JS KV), 25-token prefill then N single-token
//           steps, with ORT's prepacking on and off (session.disable_prepacking=1): anonymous memory, CPU ms/step.
// CPU times come from process.cpuUsage(): on a shared machine they are the meaningful numbers, wall times are not.
// Each of the three measurements runs in a process of its own, so that memory figures are not each other's.
//
//   npm run build:ts && node scripts/export/measure-synthetic-load.js DIR [N=8] [engine|decoder-on|decoder-off]
'use strict';
const { execFileSync } = require('node:child_process');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const CLIP = '/usr/share/pocketsphinx/test/data/cards/001.wav';
const cpuS = (u) => +((u.user + u.system) / 1e6).toFixed(2);
const status = (key) => Number(readFileSync('/proc/self/status', 'utf8').match(new RegExp(`${key}:\\s+(\\d+)`))[1]) * 1024;

function wav(path) {
  const b = readFileSync(path);
  for (let o = 12; o + 8 <= b.length; ) {
    const id = b.toString('ascii', o, o + 4);
    const n = b.readUInt32LE(o + 4);
    if (id === 'data') {
      const s = new Float32Array(n / 2);
      for (let i = 0; i < s.length; i++) s[i] = b.readInt16LE(o + 8 + 2 * i) / 32768;
      return s;
    }
    o += 8 + n + (n & 1);
  }
  throw new Error(`${path}: no data chunk`);
}

async function engine(dir, n) {
  const { loadCaptioner } = require(join(__dirname, '..', '..', 'dist', 'src', 'engine'));
  const c0 = process.cpuUsage();
  const e = await loadCaptioner(dir, { provider: 'cpu', threads: 1, skipChecksums: true, runtime: 'main' });
  const load = { cpuS: cpuS(process.cpuUsage(c0)), rssGB: +(process.memoryUsage().rss / 1e9).toFixed(2) };
  const runs = [];
  for (const tokens of [n, 3 * n]) {
    const c1 = process.cpuUsage();
    const r = await e.caption({ samples: wav(CLIP), sampleRate: 16000 }, { temperature: 0, maxNewTokens: tokens });
    runs.push({ tokens: r.completionTokens, cpuS: cpuS(process.cpuUsage(c1)), wallMs: Math.round(r.timings.totalMs) });
  }
  await e.dispose();
  const perToken = (1000 * (runs[1].cpuS - runs[0].cpuS)) / (runs[1].tokens - runs[0].tokens);
  return { layers: e.manifest.config.text.numLayers, load, peakRssGB: +(status('VmHWM') / 1e9).toFixed(2), runs, cpuMsPerToken: +perToken.toFixed(1) };
}

async function decoder(dir, n, prepack) {
  const ort = require('onnxruntime-node');
  const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const { hiddenSize: H, numLayers: L, numKvHeads: KV, headDim: HD } = m.config.text;
  const c0 = process.cpuUsage();
  const s = await ort.InferenceSession.create(join(dir, 'decoder.onnx'), {
    executionProviders: ['cpu'], graphOptimizationLevel: 'all', intraOpNumThreads: 1, interOpNumThreads: 1,
    ...(prepack ? {} : { extra: { 'session.disable_prepacking': '1' } }),
  });
  const loadCpuS = cpuS(process.cpuUsage(c0));
  const anonAfterLoad = status('RssAnon');
  let past = [];
  for (let i = 0; i < 2 * L; i++) past.push(new ort.Tensor('float32', new Float32Array(0), [1, KV, 0, HD]));
  const step = async (seq, pos0) => {
    const x = Float32Array.from({ length: seq * H }, (_, i) => Math.sin(i * 0.37) * 0.5);
    const feeds = {
      inputs_embeds: new ort.Tensor('float32', x, [1, seq, H]),
      attention_mask: new ort.Tensor('int64', BigInt64Array.from({ length: pos0 + seq }, () => 1n), [1, pos0 + seq]),
      position_ids: new ort.Tensor('int64', BigInt64Array.from({ length: seq }, (_, i) => BigInt(pos0 + i)), [1, seq]),
    };
    for (let i = 0; i < L; i++) {
      feeds[`past_key_values.${i}.key`] = past[2 * i];
      feeds[`past_key_values.${i}.value`] = past[2 * i + 1];
    }
    const out = await s.run(feeds);
    past = [];
    for (let i = 0; i < L; i++) past.push(out[`present.${i}.key`], out[`present.${i}.value`]);
  };
  await step(25, 0);
  const c1 = process.cpuUsage();
  for (let k = 0; k < n; k++) await step(1, 25 + k);
  const ms = (cpuS(process.cpuUsage(c1)) * 1000) / n;
  const anonAfterRun = status('RssAnon');
  await s.release();
  return { prepack, loadCpuS, rssAnonAfterLoadGB: +(anonAfterLoad / 1e9).toFixed(2), rssAnonAfterRunGB: +(anonAfterRun / 1e9).toFixed(2), cpuMsPerStep: +ms.toFixed(1) };
}

const MODES = { engine: (dir, n) => engine(dir, n), 'decoder-on': (dir, n) => decoder(dir, 2 * n, true), 'decoder-off': (dir, n) => decoder(dir, 2 * n, false) };

(async () => {
  const [dir, nArg, mode] = process.argv.slice(2);
  if (!dir || (mode !== undefined && !(mode in MODES))) throw new Error('usage: measure-synthetic-load.js DIR [N] [engine|decoder-on|decoder-off]');
  const n = Number(nArg ?? 8);
  if (mode !== undefined) {
    console.log(JSON.stringify(await MODES[mode](dir, n)));
    return;
  }
  const out = { dir };
  for (const m of Object.keys(MODES)) {
    const stdout = execFileSync(process.execPath, [__filename, dir, String(n), m], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    out[m] = JSON.parse(stdout.trim().split('\n').pop());
  }
  console.log(JSON.stringify(out));
})().catch((e) => {
  console.error(e.code ?? '', e.message);
  process.exit(1);
});
