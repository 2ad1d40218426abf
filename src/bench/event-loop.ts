/**
 * Event-loop delay of the calling thread while the captioner generates, per engine runtime
 * ('main': sessions on this thread; 'worker': sessions on a worker thread). Measured with a 1 ms
 * timer sampler ({@link LoopDelaySampler}) running only while captions run; the same captions
 * (greedy, `maxTokens` new tokens, `concurrency` at a time) for every runtime, runtimes alternated
 * run by run so machine load hits them alike. An 'idle' row samples a plain wait of the same
 * length: on a shared machine the OS alone delays the loop, so read the rows against it.
 *
 * Not perf_hooks.monitorEventLoopDelay: re-enabled after a disable, its first sample is the whole
 * time it was disabled (measured: a 600 ms max from a 500 ms pause between two 200 ms windows), so
 * alternating runtimes put the other runtime's run time into the max.
 */
import { createHistogram, type IntervalHistogram, type RecordableHistogram } from 'node:perf_hooks';
import { invalidParameterError } from '../errors';
import { throwIfAborted } from '../util/abort';
import { loadCaptioner, type Captioner, type EngineRuntime, type ProviderRequest } from '../engine';
import { decodeAudio } from '../media';
import { MAX_WINDOW_SECONDS } from '../schema/limits';

export interface EventLoopDelay {
  /** Milliseconds (the histogram records nanoseconds). */
  p50: number;
  p99: number;
  max: number;
  mean: number;
  /** Histogram samples (one per resolution tick, i.e. about one per ms of monitored time). */
  samples: number;
}

export interface EventLoopBenchResult {
  /** 'idle': the same monitor while nothing runs, for as long as the mean runtime row (machine noise baseline). */
  runtime: EngineRuntime | 'idle';
  provider: string;
  delay: EventLoopDelay;
  /** Wall time of the monitored captions (ms, all runs). */
  monitoredMs: number;
  captions: number;
  completionTokens: number;
}

export interface EventLoopBenchOptions {
  modelDir: string;
  input: string;
  runtimes: EngineRuntime[];
  provider: Exclude<ProviderRequest, 'auto'>;
  runs: number;
  maxTokens: number;
  /** Captions in flight at once on each engine (default 1). */
  concurrency?: number;
  threads?: number;
  skipChecksums?: boolean;
  signal?: AbortSignal;
}

/**
 * Event-loop delay sampled by a chain of 1 ms timers: each tick records how much later than
 * scheduled it fired (ns). start()/stop() may alternate; samples only come from inside a window,
 * so one histogram can collect many windows.
 */
export class LoopDelaySampler {
  readonly histogram: RecordableHistogram = createHistogram();
  private timer: NodeJS.Timeout | undefined;
  private expected = 0;

  constructor(private readonly resolutionMs = 1) {}

  start(): void {
    if (this.timer !== undefined) return;
    const tick = (): void => {
      const now = performance.now();
      this.histogram.record(Math.max(1, Math.round((now - this.expected) * 1e6)));
      this.expected = now + this.resolutionMs;
      this.timer = setTimeout(tick, this.resolutionMs);
    };
    this.expected = performance.now() + this.resolutionMs;
    this.timer = setTimeout(tick, this.resolutionMs);
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/** An event-loop delay histogram (ns samples) in ms. */
export function delayOf(h: IntervalHistogram | RecordableHistogram): EventLoopDelay {
  const ms = (ns: number): number => ns / 1e6;
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), mean: ms(h.mean), samples: h.count };
}

const MAX_SAMPLES = MAX_WINDOW_SECONDS * 16000;

export async function benchEventLoop(o: EventLoopBenchOptions): Promise<EventLoopBenchResult[]> {
  if (o.runtimes.length === 0) throw invalidParameterError('runtimes', 'at least one of main, worker', o.runtimes);
  const concurrency = o.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw invalidParameterError('concurrency', 'an integer >= 1', concurrency);
  const audio = await decodeAudio(o.input, { signal: o.signal });
  const samples = audio.samples.length > MAX_SAMPLES ? audio.samples.subarray(0, MAX_SAMPLES) : audio.samples;
  const engines: Array<{ runtime: EngineRuntime; captioner: Captioner; h: LoopDelaySampler; ms: number; tokens: number; captions: number }> = [];
  try {
    for (const runtime of o.runtimes) {
      const captioner = await loadCaptioner(o.modelDir, { runtime, provider: o.provider, threads: o.threads, skipChecksums: o.skipChecksums, signal: o.signal });
      engines.push({ runtime, captioner, h: new LoopDelaySampler(), ms: 0, tokens: 0, captions: 0 });
    }
    const one = (c: Captioner): Promise<number> =>
      c.caption({ samples, sampleRate: 16000 }, { temperature: 0, maxNewTokens: o.maxTokens, signal: o.signal }).then((r) => r.completionTokens);
    for (const e of engines) await one(e.captioner); // warm-up, not monitored
    for (let r = 0; r < o.runs; r++) {
      for (const e of engines) {
        throwIfAborted(o.signal);
        const t = performance.now();
        e.h.start();
        try {
          const tokens = await Promise.all(Array.from({ length: concurrency }, () => one(e.captioner)));
          e.tokens += tokens.reduce((a, b) => a + b, 0);
          e.captions += concurrency;
        } finally {
          e.h.stop();
          e.ms += performance.now() - t;
        }
      }
    }
    const idle = new LoopDelaySampler();
    const idleMs = engines.reduce((a, e) => a + e.ms, 0) / engines.length;
    idle.start();
    await new Promise((r) => setTimeout(r, idleMs));
    idle.stop();
    return [
      { runtime: 'idle', provider: o.provider, delay: delayOf(idle.histogram), monitoredMs: idleMs, captions: 0, completionTokens: 0 },
      ...engines.map((e) => ({ runtime: e.runtime, provider: o.provider, delay: delayOf(e.h.histogram), monitoredMs: e.ms, captions: e.captions, completionTokens: e.tokens })),
    ];
  } finally {
    await Promise.all(engines.map((e) => e.captioner.dispose()));
  }
}
