/**
 * Engine latency benchmark: per stage (decode+resample, features, encoder, prefill, per-token
 * decode, end-to-end), time to first token, tokens/s and real-time factor over N runs after
 * warm-up, for each requested execution provider (a provider that cannot load is reported as
 * `unavailable: <reason>` instead of failing the whole run).
 *
 * Decoding is greedy and EOS is ignored so that every run decodes exactly `maxTokens` tokens
 * (stable work per run); the end-to-end time therefore is "caption of maxTokens tokens".
 */
import { invalidParameterError, toOmnicapError } from '../errors';
import { throwIfAborted } from '../util/abort';
import { loadCaptioner, type CaptionerEngine } from '../engine/captioner';
import { argmax } from '../engine/sampler';
import type { ProviderRequest } from '../engine/provider';
import { decodeAudio } from '../media';
import { summarize, type Summary } from './stats';
import { MAX_WINDOW_SECONDS } from '../schema/limits';

export const STAGES = ['decodeAudio', 'features', 'encoder', 'prefill', 'perToken', 'ttft', 'endToEnd'] as const;
export type Stage = (typeof STAGES)[number];

export interface EngineBenchOptions {
  modelDir: string;
  input: string;
  runs: number;
  warmup: number;
  maxTokens: number;
  providers: Array<Exclude<ProviderRequest, 'auto'>>;
  threads?: number;
  /** Skip sha256 verification when loading (default false). */
  skipChecksums?: boolean;
  /** Called after each measured or warm-up run (progress). */
  onRun?: (provider: string, index: number, warmup: boolean) => void;
  signal?: AbortSignal;
}

export interface ProviderBenchOk {
  provider: string;
  status: 'ok';
  loadMs: number;
  audioSeconds: number;
  promptTokens: number;
  tokensPerRun: number;
  /** ms per stage over the measured runs (perToken: every decode step of every run). */
  stages: Record<Stage, Summary>;
  /** Decode tokens/s = 1000 / mean per-token ms. */
  decodeTokensPerSecond: number;
  /** End-to-end tokens/s = tokens / end-to-end seconds (median run). */
  endToEndTokensPerSecond: number;
  /** Real-time factor = end-to-end time / audio duration (median run); < 1 is faster than real time. */
  realTimeFactor: number;
  /** First run's greedy tokens (the same ids across providers means they agree). */
  tokenIds: number[];
}

export interface ProviderBenchUnavailable {
  provider: string;
  status: 'unavailable';
  reason: string;
}

export type ProviderBench = ProviderBenchOk | ProviderBenchUnavailable;

const now = (): number => performance.now();
const MAX_SAMPLES = MAX_WINDOW_SECONDS * 16000;

interface RunSample {
  decodeAudio: number;
  features: number;
  encoder: number;
  prefill: number;
  perToken: number[];
  ttft: number;
  endToEnd: number;
  audioSeconds: number;
  promptTokens: number;
  tokenIds: number[];
}

async function oneRun(engine: CaptionerEngine, input: string, maxTokens: number, signal?: AbortSignal): Promise<RunSample> {
  const t0 = now();
  const audio = await decodeAudio(input, { signal });
  // one window: the Captioner is specified for clips <= 30 s (longer inputs are cut here)
  const samples = audio.samples.length > MAX_SAMPLES ? audio.samples.subarray(0, MAX_SAMPLES) : audio.samples;
  const t1 = now();
  const mel = await engine.features(samples, signal);
  const t2 = now();
  const enc = await engine.encodeAudio(mel, signal);
  const t3 = now();
  const prompt = engine.prompt(enc.audioTokens);
  const embeds = await engine.promptEmbeds(prompt, enc.embeds);
  const dec = engine.newDecoder();
  try {
    let logits = await dec.forward(embeds);
    const t4 = now();
    let id = argmax(logits);
    const ttft = now() - t0;
    const ids = [id];
    const perToken: number[] = [];
    while (ids.length < maxTokens) {
      throwIfAborted(signal);
      const s = now();
      logits = await dec.step(id);
      id = argmax(logits);
      perToken.push(now() - s);
      ids.push(id);
    }
    const end = now();
    return {
      decodeAudio: t1 - t0,
      features: t2 - t1,
      encoder: t3 - t2,
      prefill: t4 - t3,
      perToken,
      ttft,
      endToEnd: end - t0,
      audioSeconds: samples.length / 16000,
      promptTokens: prompt.ids.length,
      tokenIds: ids,
    };
  } finally {
    dec.dispose();
  }
}

function validate(o: EngineBenchOptions): void {
  if (!Number.isInteger(o.runs) || o.runs < 1) throw invalidParameterError('runs', 'an integer >= 1', o.runs);
  if (!Number.isInteger(o.warmup) || o.warmup < 0) throw invalidParameterError('warmup', 'an integer >= 0', o.warmup);
  if (!Number.isInteger(o.maxTokens) || o.maxTokens < 2) throw invalidParameterError('maxTokens', 'an integer >= 2', o.maxTokens);
  if (o.providers.length === 0) throw invalidParameterError('providers', 'at least one of cpu, cuda', o.providers);
}

export async function benchProvider(provider: 'cpu' | 'cuda', o: EngineBenchOptions): Promise<ProviderBench> {
  validate(o);
  let engine: CaptionerEngine;
  const tl = now();
  try {
    engine = await loadCaptioner(o.modelDir, { provider, threads: o.threads, skipChecksums: o.skipChecksums, signal: o.signal });
  } catch (e) {
    const err = toOmnicapError(e);
    if (err.code === 'PROVIDER_UNAVAILABLE') return { provider, status: 'unavailable', reason: err.message };
    throw err;
  }
  const loadMs = now() - tl;
  try {
    for (let i = 0; i < o.warmup; i++) {
      throwIfAborted(o.signal);
      await oneRun(engine, o.input, o.maxTokens, o.signal);
      o.onRun?.(provider, i, true);
    }
    const runs: RunSample[] = [];
    for (let i = 0; i < o.runs; i++) {
      throwIfAborted(o.signal);
      runs.push(await oneRun(engine, o.input, o.maxTokens, o.signal));
      o.onRun?.(provider, i, false);
    }
    const pick = (k: Exclude<Stage, 'perToken'>): Summary => summarize(runs.map((r) => r[k]));
    const stages: Record<Stage, Summary> = {
      decodeAudio: pick('decodeAudio'),
      features: pick('features'),
      encoder: pick('encoder'),
      prefill: pick('prefill'),
      perToken: summarize(runs.flatMap((r) => r.perToken)),
      ttft: pick('ttft'),
      endToEnd: pick('endToEnd'),
    };
    const first = runs[0];
    return {
      provider: engine.provider,
      status: 'ok',
      loadMs,
      audioSeconds: first.audioSeconds,
      promptTokens: first.promptTokens,
      tokensPerRun: o.maxTokens,
      stages,
      decodeTokensPerSecond: 1000 / stages.perToken.mean,
      endToEndTokensPerSecond: o.maxTokens / (stages.endToEnd.p50 / 1000),
      realTimeFactor: stages.endToEnd.p50 / 1000 / first.audioSeconds,
      tokenIds: first.tokenIds,
    };
  } finally {
    await engine.dispose();
  }
}

/** CPU vs CUDA (or any list) side by side, one provider after the other in the same process. */
export async function benchEngine(o: EngineBenchOptions): Promise<ProviderBench[]> {
  validate(o);
  const out: ProviderBench[] = [];
  for (const p of o.providers) out.push(await benchProvider(p, o));
  return out;
}
