/**
 * `omnicap bench` orchestration: engine stages per provider, the kv-transfer stage, an optional
 * server concurrency sweep, machine + model description -> one {@link BenchReport}.
 */
import { invalidParameterError, toOmnicapError } from '../errors';
import { throwIfAborted } from '../util/abort';
import { loadCaptioner, type EngineRuntime } from '../engine';
import { benchEngine, type ProviderBench } from './engine-bench';
import { benchEventLoop, type EventLoopBenchResult } from './event-loop';
import { measureKvTransfer, type KvTransferResult } from './kv-transfer';
import { machineInfo, modelInfo, type ModelInfo } from './machine';
import type { BenchReport } from './report';
import { PERCENTILE_DEFINITION } from '../util/percentile';
import { benchServer, type ServerBenchResult } from './server-bench';

export const DEFAULT_BENCH_INPUT = '/usr/share/pocketsphinx/test/data/librivox/sense_and_sensibility_01_austen_64kb-0870.wav';
export const DEFAULT_KV_PAST = [0, 64, 128, 256, 512];
export const DEFAULT_RUNTIMES: EngineRuntime[] = ['main', 'worker'];

export interface RunBenchOptions {
  command: string;
  /** Engine benchmark on this model directory (omit to only sweep a server). */
  modelDir?: string;
  input: string;
  runs: number;
  warmup: number;
  maxTokens: number;
  providers: Array<'cpu' | 'cuda'>;
  threads?: number;
  skipChecksums?: boolean;
  /** Past lengths for the kv-transfer stage; empty skips it. */
  kvPast: number[];
  /** Engine runtimes for the event-loop stage (default main and worker); empty skips it. */
  runtimes?: EngineRuntime[];
  server?: { url: string; concurrency: number[]; requests: number; headers?: Record<string, string> };
  onProgress?: (line: string) => void;
  signal?: AbortSignal;
}

type KvStageResult = BenchReport['kvTransfer'][number];

/** The kv-transfer stage on one provider, JS path then resident path, in the same run. */
async function kvStage(o: RunBenchOptions, modelDir: string, provider: 'cpu' | 'cuda'): Promise<KvStageResult[]> {
  const out: KvStageResult[] = [];
  for (const kv of ['js', 'resident'] as const) {
    throwIfAborted(o.signal);
    let engine;
    try {
      engine = await loadCaptioner(modelDir, { provider, threads: o.threads, skipChecksums: o.skipChecksums, kv, signal: o.signal });
    } catch (e) {
      const err = toOmnicapError(e);
      if (err.code === 'PROVIDER_UNAVAILABLE' || err.code === 'NATIVE_ADDON_UNAVAILABLE' || (kv === 'resident' && err.code === 'INVALID_ARGUMENT')) {
        out.push({ provider, kvPath: kv, unavailable: err.message });
        continue;
      }
      throw err;
    }
    try {
      const t = engine.manifest.config.text;
      const plan = engine.ortSessions.decoderPlan;
      const e = engine;
      out.push(
        await measureKvTransfer({
          newDecoder: () => e.newDecoder(),
          kvPath: kv,
          ...(engine.kvCache.layout !== undefined ? { layout: engine.kvCache.layout } : {}),
          shape: { numLayers: plan.numLayers, numKvHeads: t.numKvHeads, headDim: t.headDim, bytesPerElement: plan.kvDtype === 'float16' ? 2 : 4 },
          hiddenSize: t.hiddenSize,
          maxPositions: t.maxPositionEmbeddings,
          provider: engine.provider,
          pastLengths: o.kvPast,
          reps: Math.max(3, o.runs),
          signal: o.signal,
        }),
      );
    } finally {
      await engine.dispose();
    }
  }
  return out;
}

export async function runBench(o: RunBenchOptions): Promise<BenchReport> {
  if (o.modelDir === undefined && o.server === undefined) throw invalidParameterError('model/server', 'a model directory and/or a server URL', undefined);
  const machine = await machineInfo();
  let model: ModelInfo | undefined;
  let providers: ProviderBench[] = [];
  const kvTransfer: BenchReport['kvTransfer'] = [];
  const eventLoop: EventLoopBenchResult[] = [];
  if (o.modelDir !== undefined) {
    const dir = o.modelDir;
    model = await modelInfo(dir);
    providers = await benchEngine({
      modelDir: dir,
      input: o.input,
      runs: o.runs,
      warmup: o.warmup,
      maxTokens: o.maxTokens,
      providers: o.providers,
      threads: o.threads,
      skipChecksums: o.skipChecksums,
      signal: o.signal,
      onRun: (p, i, warm) => o.onProgress?.(`${p} ${warm ? 'warm-up' : 'run'} ${i + 1}/${warm ? o.warmup : o.runs}`),
    });
    if (o.kvPast.length > 0) {
      for (const p of o.providers) {
        throwIfAborted(o.signal);
        const failed = providers.find((r) => r.provider === p && r.status === 'unavailable');
        if (failed !== undefined && failed.status === 'unavailable') {
          kvTransfer.push({ provider: p, unavailable: failed.reason });
          continue;
        }
        o.onProgress?.(`${p} kv-transfer over past lengths ${o.kvPast.join(',')}`);
        kvTransfer.push(...(await kvStage(o, dir, p)));
      }
    }
    const runtimes = o.runtimes ?? DEFAULT_RUNTIMES;
    for (const p of providers) {
      if (runtimes.length === 0 || p.status !== 'ok') continue;
      throwIfAborted(o.signal);
      o.onProgress?.(`${p.provider} event-loop delay with runtimes ${runtimes.join(',')}`);
      const provider = p.provider === 'cuda' ? 'cuda' : 'cpu';
      eventLoop.push(...(await benchEventLoop({ modelDir: dir, input: o.input, runtimes, provider, runs: o.runs, maxTokens: o.maxTokens, threads: o.threads, skipChecksums: o.skipChecksums, signal: o.signal })));
    }
  }
  let server: ServerBenchResult | undefined;
  if (o.server !== undefined) {
    o.onProgress?.(`server sweep ${o.server.url} concurrency ${o.server.concurrency.join(',')}`);
    server = await benchServer({ ...o.server, input: o.input, maxTokens: o.maxTokens, signal: o.signal });
  }
  return {
    kind: 'omnicap-bench',
    version: 1,
    createdAt: new Date().toISOString(),
    command: o.command,
    machine,
    ...(model !== undefined ? { model } : {}),
    input: o.input,
    settings: { runs: o.runs, warmup: o.warmup, maxTokens: o.maxTokens, ...(o.threads !== undefined ? { threads: o.threads } : {}), percentile: PERCENTILE_DEFINITION },
    providers,
    kvTransfer,
    eventLoop,
    ...(server !== undefined ? { server } : {}),
  };
}
