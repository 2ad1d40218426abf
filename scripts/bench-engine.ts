/**
 * Engine benchmark: prefill ms, decode ms/token, tokens/s, and the engine's per-step overhead
 * versus a bare `session.run` loop over the same embed + decoder sessions.
 *
 *   npm run build:ts && npm run bench:engine -- [--model DIR] [--audio FILE] [--tokens N] [--reps R] [--threads T]
 *
 * `--thread-sweep 1,2` instead compares intra-op thread counts with spinning on and off in one
 * process (one engine per setting, runs interleaved): prefill ms, decode ms/token and process CPU
 * ms per token, as ratios to 1 thread without spinning.
 *
 * `--decode-floor DIR1,DIR2` measures decode ms/token of each model (default KV path) against the
 * memory-bandwidth floor for the bytes a step reads (src/bench/decode-floor.ts), in one run.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { buildFacts, decodeBytesPerToken, measureReadBandwidth, textDims } from '../src/bench/decode-floor';
import { loadCaptioner, type CaptionerEngine } from '../src/engine';
import { decodeAudio } from '../src/media';
import { argmax } from '../src/engine/sampler';
import { ort, tensorToFloat32, type OrtTensor } from '../src/engine/ort';
import { defaultModelDir } from '../src/util/paths';

const DEFAULT_AUDIO = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function engineDecode(engine: CaptionerEngine, prefill: OrtTensor, tokens: number): Promise<{ prefillMs: number; stepMs: number }> {
  const dec = engine.newDecoder();
  try {
    let t = performance.now();
    let logits = await dec.forward(prefill);
    const prefillMs = performance.now() - t;
    t = performance.now();
    for (let i = 0; i < tokens; i++) logits = await dec.step(argmax(logits));
    return { prefillMs, stepMs: (performance.now() - t) / tokens };
  } finally {
    dec.dispose();
  }
}

/** The same work with nothing but session.run calls and inline feeds. */
async function bareDecode(engine: CaptionerEngine, prefill: OrtTensor, tokens: number, prealloc: boolean): Promise<number> {
  const { embed, decoder, decoderPlan: plan } = engine.jsSessions;
  const { Tensor } = ort();
  const t = engine.manifest.config.text;
  const L = plan.numLayers;
  let past: OrtTensor[] = [];
  for (let i = 0; i < 2 * L; i++) past.push(new Tensor('float32', new Float32Array(0), [1, t.numKvHeads, 0, t.headDim]));
  const seq = prefill.dims[1];
  const feeds = (emb: OrtTensor, pastLen: number, n: number): Record<string, OrtTensor> => {
    const f: Record<string, OrtTensor> = {
      inputs_embeds: emb,
      attention_mask: new Tensor('int64', new BigInt64Array(pastLen + n).fill(1n), [1, pastLen + n]),
      position_ids: new Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(pastLen + i)), [1, n]),
    };
    for (let i = 0; i < L; i++) {
      f[plan.pastKey[i]] = past[2 * i];
      f[plan.pastValue[i]] = past[2 * i + 1];
    }
    return f;
  };
  const cap = seq + tokens + 1;
  const per = t.numKvHeads * t.headDim;
  const ping = prealloc ? Array.from({ length: 4 * L }, () => new Float32Array(per * cap)) : [];
  let out = await decoder.run(feeds(prefill, 0, seq));
  past = plan.presentKey.flatMap((k, i) => [out[k], out[plan.presentValue[i]]]);
  let logits = tensorToFloat32(out.logits);
  let tok = argmax(logits, (seq - 1) * t.vocabSize, t.vocabSize);
  const t0 = performance.now();
  for (let s = 0; s < tokens; s++) {
    const e = (await embed.run({ input_ids: new Tensor('int64', BigInt64Array.of(BigInt(tok)), [1, 1]) })).inputs_embeds;
    const pastLen = seq + s;
    if (prealloc) {
      const bank = (s % 2) * 2 * L;
      const fetches: Record<string, OrtTensor | null> = { logits: null };
      for (let i = 0; i < L; i++) {
        fetches[plan.presentKey[i]] = new Tensor('float32', ping[bank + 2 * i].subarray(0, per * (pastLen + 1)), [1, t.numKvHeads, pastLen + 1, t.headDim]);
        fetches[plan.presentValue[i]] = new Tensor('float32', ping[bank + 2 * i + 1].subarray(0, per * (pastLen + 1)), [1, t.numKvHeads, pastLen + 1, t.headDim]);
      }
      out = await decoder.run(feeds(e, pastLen, 1), fetches);
      past = plan.presentKey.flatMap((_, i) => [fetches[plan.presentKey[i]]!, fetches[plan.presentValue[i]]!]);
    } else {
      out = await decoder.run(feeds(e, pastLen, 1));
      past = plan.presentKey.flatMap((k, i) => [out[k], out[plan.presentValue[i]]]);
    }
    logits = tensorToFloat32(out.logits);
    tok = argmax(logits, 0, t.vocabSize);
  }
  return (performance.now() - t0) / tokens;
}

/** Prefill + `tokens` decode steps on one engine: wall ms and process CPU ms (all threads). */
async function timedDecode(engine: CaptionerEngine, samples: Float32Array, tokens: number): Promise<{ prefillMs: number; stepMs: number; cpuMsPerToken: number }> {
  const enc = await engine.encodeAudio(await engine.features(samples));
  const embeds = await engine.promptEmbeds(engine.prompt(enc.audioTokens), enc.embeds);
  const cpu0 = process.cpuUsage();
  const r = await engineDecode(engine, embeds, tokens);
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { ...r, cpuMsPerToken: cpuMs / tokens };
}

async function threadSweep(modelDir: string, audioPath: string, counts: number[], tokens: number, reps: number): Promise<void> {
  const { samples } = await decodeAudio(audioPath);
  const configs = counts.flatMap((threads) => [false, true].map((spinning) => ({ threads, spinning })));
  const engines: CaptionerEngine[] = [];
  try {
    for (const c of configs) engines.push(await loadCaptioner(modelDir, { provider: 'cpu', threads: c.threads, spinning: c.spinning, kv: 'js' }));
    for (const e of engines) await timedDecode(e, samples, 8); // warm-up
    const res = configs.map(() => ({ prefill: [] as number[], step: [] as number[], cpu: [] as number[] }));
    for (let r = 0; r < reps; r++) {
      for (let i = 0; i < engines.length; i++) {
        const x = await timedDecode(engines[i], samples, tokens);
        res[i].prefill.push(x.prefillMs);
        res[i].step.push(x.stepMs);
        res[i].cpu.push(x.cpuMsPerToken);
      }
    }
    const base = { prefill: median(res[0].prefill), step: median(res[0].step), cpu: median(res[0].cpu) };
    const rows = configs.map((c, i) => {
      const p = median(res[i].prefill);
      const st = median(res[i].step);
      const cpu = median(res[i].cpu);
      return { ...c, prefillMs: +p.toFixed(2), msPerToken: +st.toFixed(3), cpuMsPerToken: +cpu.toFixed(3), prefillRatio: +(p / base.prefill).toFixed(3), stepRatio: +(st / base.step).toFixed(3), cpuRatio: +(cpu / base.cpu).toFixed(3) };
    });
    process.stdout.write(JSON.stringify({ model: engines[0].manifest.name, audio: audioPath, tokens, reps, baseline: '1 thread, spinning off', rows }, null, 2) + '\n');
  } finally {
    await Promise.all(engines.map((e) => e.dispose()));
  }
}

/**
 * Decode ms/token of each model against this machine's memory-bandwidth floor for the bytes a step
 * reads (src/bench/decode-floor.ts), engines on their default (resident) KV path, one run.
 */
async function decodeFloor(modelDirs: string[], audioPath: string, tokens: number, reps: number, threads: number | undefined): Promise<void> {
  const { samples } = await decodeAudio(audioPath);
  const bwBefore = measureReadBandwidth();
  const rows = [];
  for (const dir of modelDirs) {
    const raw: unknown = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const engine = await loadCaptioner(dir, { provider: 'cpu', threads });
    try {
      const enc = await engine.encodeAudio(await engine.features(samples));
      const embeds = await engine.promptEmbeds(engine.prompt(enc.audioTokens), enc.embeds);
      await engineDecode(engine, embeds, 8); // warm-up
      const steps: number[] = [];
      for (let r = 0; r < reps; r++) steps.push((await engineDecode(engine, embeds, tokens)).stepMs);
      const dims = textDims(raw);
      const facts = buildFacts(raw);
      const past = embeds.dims[1] + Math.round(tokens / 2);
      rows.push({ model: engine.manifest.name, dir, kv: engine.kvCache, facts, past, msPerToken: +median(steps).toFixed(3), bytes: decodeBytesPerToken(dims, facts, past), fileBytes: decodeBytesPerToken(dims, { ...facts, int8Linear: 'nbits' }, past) });
    } finally {
      await engine.dispose();
    }
  }
  const gbps = (bwBefore + measureReadBandwidth()) / 2;
  const out = rows.map((r) => {
    const floorMs = (r.bytes.total / (gbps * 1e9)) * 1000;
    const fileFloorMs = (r.fileBytes.total / (gbps * 1e9)) * 1000;
    return { ...r, floorMs: +floorMs.toFixed(3), ratioToFloor: +(r.msPerToken / floorMs).toFixed(2), fileBytesFloorMs: +fileFloorMs.toFixed(3), ratioToFileBytesFloor: +(r.msPerToken / fileFloorMs).toFixed(2) };
  });
  process.stdout.write(JSON.stringify({ audio: audioPath, tokens, reps, threads: threads ?? 'ort-default', readBandwidthGBps: +gbps.toFixed(2), bandwidthProbe: 'median memcmp of two 256 MiB buffers, before and after', rows: out }, null, 2) + '\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, audio: { type: 'string' }, tokens: { type: 'string' }, reps: { type: 'string' }, threads: { type: 'string' }, 'thread-sweep': { type: 'string' }, 'decode-floor': { type: 'string' } },
  });
  const modelDir = values.model ?? defaultModelDir();
  const tokens = Number(values.tokens ?? 128);
  const reps = Number(values.reps ?? 5);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  const audioPath = values.audio ?? DEFAULT_AUDIO;
  if (values['decode-floor'] !== undefined) {
    await decodeFloor(values['decode-floor'].split(','), audioPath, tokens, reps, threads);
    return;
  }
  if (values['thread-sweep'] !== undefined) {
    await threadSweep(modelDir, audioPath, values['thread-sweep'].split(',').map(Number), tokens, reps);
    return;
  }
  const engine = await loadCaptioner(modelDir, { provider: 'cpu', threads, kv: 'js' });
  try {
    const { samples } = await decodeAudio(audioPath); // any format; the default clip takes the WAV fast path
    let t = performance.now();
    const mel = await engine.features(samples);
    const featuresMs = performance.now() - t;
    t = performance.now();
    const enc = await engine.encodeAudio(mel);
    const encoderMs = performance.now() - t;
    const prompt = engine.prompt(enc.audioTokens);
    const embeds = await engine.promptEmbeds(prompt, enc.embeds);
    // warm-up
    await engineDecode(engine, embeds, 8);
    await bareDecode(engine, embeds, 8, false);
    const eng: number[] = [];
    const pre: number[] = [];
    const bare: number[] = [];
    const bareAlloc: number[] = [];
    for (let r = 0; r < reps; r++) {
      // interleaved so machine load affects all variants alike
      const e = await engineDecode(engine, embeds, tokens);
      eng.push(e.stepMs);
      pre.push(e.prefillMs);
      bare.push(await bareDecode(engine, embeds, tokens, false));
      bareAlloc.push(await bareDecode(engine, embeds, tokens, true));
    }
    const m = engine.manifest;
    const stepMs = median(eng);
    const bareMs = median(bare);
    const report = {
      model: m.name,
      config: { layers: m.config.text.numLayers, hidden: m.config.text.hiddenSize, vocab: m.config.text.vocabSize, kvHeads: m.config.text.numKvHeads, headDim: m.config.text.headDim },
      audio: { file: audioPath, seconds: +(samples.length / 16000).toFixed(2), audioTokens: enc.audioTokens, promptTokens: prompt.ids.length },
      threads: threads ?? 'ort-default',
      reps,
      decodeTokens: tokens,
      featuresMs: +featuresMs.toFixed(2),
      encoderMs: +encoderMs.toFixed(2),
      prefillMs: +median(pre).toFixed(2),
      msPerToken: +stepMs.toFixed(3),
      tokensPerSecond: +(1000 / stepMs).toFixed(1),
      bareSessionRunMsPerToken: +bareMs.toFixed(3),
      bareWithPreallocatedFetchesMsPerToken: +median(bareAlloc).toFixed(3),
      engineOverheadPercent: +((100 * (stepMs - bareMs)) / bareMs).toFixed(2),
    };
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  } finally {
    await engine.dispose();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench-engine: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
