/**
 * Engine benchmark: prefill ms, decode ms/token, tokens/s, and the engine's per-step overhead
 * versus a bare `session.run` loop over the same embed + decoder sessions.
 *
 *   npm run build:ts && npm run bench:engine -- [--model DIR] [--audio FILE] [--tokens N] [--reps R] [--threads T]
 */
import { parseArgs } from 'node:util';
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
  const { embed, decoder, decoderPlan: plan } = engine.ortSessions;
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

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { model: { type: 'string' }, audio: { type: 'string' }, tokens: { type: 'string' }, reps: { type: 'string' }, threads: { type: 'string' } },
  });
  const modelDir = values.model ?? defaultModelDir();
  const tokens = Number(values.tokens ?? 128);
  const reps = Number(values.reps ?? 5);
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  const audioPath = values.audio ?? DEFAULT_AUDIO;
  const engine = await loadCaptioner(modelDir, { provider: 'cpu', threads });
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
