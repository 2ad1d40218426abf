/**
 * WorkerCaptioner: the captioner engine hosted on a worker_thread (`loadCaptioner(dir,
 * { runtime: 'worker' })`). onnxruntime-node runs `session.run` synchronously on the calling
 * thread, so with the in-thread engine a prefill or decode step blocks the caller's event loop
 * (HTTP, SSE writes, timers, /metrics) for its whole duration. Here the sessions, KV caches and
 * the decode batcher live in the worker; the main thread only exchanges audio, options and stream
 * chunks with it.
 *
 * Behaviour is the in-thread engine's: streams are pulled one chunk at a time (the worker advances
 * a generation only when asked, so slow consumers still get parked by the batcher), the signal is
 * checked between steps on both sides (no chunk is delivered after an abort; an abort or timeout
 * while a step runs rejects at once and the worker stops that generation at its next check),
 * dispose() stops generations in flight with DISPOSED and ends the worker thread.
 */
import { collectCaption } from './collect';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { OmnicapError, disposedError } from '../errors';
import { abortError, throwIfAborted } from '../util/abort';
import type { BatcherStats } from './batcher';
import type { LoadCaptionerOptions } from './load-options';
import type { ModelManifest } from './manifest';
import { validatePcm } from './pcm';
import type { ResolvedProvider } from './provider';
import type { CaptionChunk, CaptionOptions, CaptionResult, Captioner, Pcm16k } from './types';
import type { KvCacheInfo } from './kv-path';
import { deserializeError, serializeError, type FromWorker, type ToWorker, type WorkerData, type WorkerLoadRequest, type WorkerStatus } from './worker-protocol';

/** Transpile-on-require loader for running the worker from TypeScript sources (ts-jest, no dist/). */
const TS_BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const { readFileSync } = require('node:fs');
const ts = require(workerData.bootstrap.typescript);
require.extensions['.ts'] = (module, filename) => {
  const out = ts.transpileModule(readFileSync(filename, 'utf8'), {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: true },
  });
  module._compile(out.outputText, filename);
};
require(workerData.bootstrap.entry);
`;

interface WorkerEntry {
  filename: string;
  eval: boolean;
  bootstrap?: { entry: string; typescript: string };
}

function workerEntry(): WorkerEntry {
  const js = join(__dirname, 'worker-main.js');
  if (existsSync(js)) return { filename: js, eval: false };
  return { filename: TS_BOOTSTRAP, eval: true, bootstrap: { entry: join(__dirname, 'worker-main.ts'), typescript: require.resolve('typescript') } };
}

interface Waiter {
  resolve: (m: FromWorker) => void;
  reject: (e: unknown) => void;
}

const DISPOSE_ID = 0;

export class WorkerCaptioner implements Captioner, AsyncDisposable {
  readonly runtime = 'worker' as const;
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private failure: OmnicapError | undefined;
  private disposed = false;
  private disposing: Promise<void> | undefined;
  private stats: BatcherStats | undefined;
  private exitedFlag = false;
  /** Resolves when the worker thread has ended. */
  readonly exited: Promise<void>;

  private constructor(
    private readonly worker: Worker,
    readonly modelId: string,
    readonly provider: ResolvedProvider,
    readonly manifest: ModelManifest,
    /** Where the worker's decoder keeps its KV cache and why (kv-path.ts). */
    readonly kvCache: Readonly<KvCacheInfo>,
    exited: Promise<void>,
  ) {
    this.exited = exited;
    worker.on('message', (m: FromWorker) => this.route(m));
    worker.on('error', (e: Error) => this.fail(new OmnicapError('MODEL_RUN_FAILED', `the engine worker failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code: number) => {
      this.exitedFlag = true;
      if (!this.disposed) this.fail(new OmnicapError('INTERNAL', `the engine worker exited unexpectedly (code ${code})`));
    });
    this.updateRef();
  }

  static async load(modelDir: string, options: LoadCaptionerOptions = {}): Promise<WorkerCaptioner> {
    throwIfAborted(options.signal);
    const { runtime, signal: loadSignal, ...crossing } = options;
    const request: WorkerLoadRequest = { ...crossing, modelDir };
    const entry = workerEntry();
    const data: WorkerData = { request, ...(entry.bootstrap !== undefined ? { bootstrap: entry.bootstrap } : {}) };
    const worker = new Worker(entry.filename, { eval: entry.eval, workerData: data });
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const signal = loadSignal;
    let onAbort: (() => void) | undefined;
    try {
      const first = await new Promise<FromWorker>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', (e: Error) => reject(new OmnicapError('MODEL_RUN_FAILED', `the engine worker failed to start: ${e.message}`, { cause: e })));
        worker.once('exit', (code: number) => reject(new OmnicapError('INTERNAL', `the engine worker exited while loading (code ${code})`)));
        onAbort = () => reject(abortError(signal!));
        signal?.addEventListener('abort', onAbort, { once: true });
      });
      if (first.type === 'load-failed') throw deserializeError(first.error);
      if (first.type !== 'loaded') throw new OmnicapError('INTERNAL', `the engine worker sent ${first.type} before loading`);
      return new WorkerCaptioner(worker, first.modelId, first.provider, first.manifest, first.kvCache, exited);
    } catch (e) {
      await worker.terminate();
      throw e;
    } finally {
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Batched-decoding counters as of the last chunk the worker sent (undefined when batching is off). */
  get batchStats(): Readonly<BatcherStats> | undefined {
    return this.stats;
  }

  /** Generations open in the worker (tests check that aborts and early exits close theirs). */
  async workerStatus(): Promise<WorkerStatus> {
    this.ensureOpen();
    const id = this.nextId++;
    const reply = this.reply(id, undefined);
    this.post({ type: 'status', id });
    const m = await reply;
    if (m.type !== 'status') throw new OmnicapError('INTERNAL', `expected a status reply, got ${m.type}`);
    return m.status;
  }

  caption(audio: Pcm16k, options: CaptionOptions = {}): Promise<CaptionResult> {
    return collectCaption(this.captionStream(audio, options));
  }

  async *captionStream(audio: Pcm16k, options: CaptionOptions = {}): AsyncGenerator<CaptionChunk, void, undefined> {
    this.ensureOpen();
    validatePcm(audio);
    const { signal, ...rest } = options;
    throwIfAborted(signal);
    const id = this.nextId++;
    const onAbort = (): void => {
      if (!this.exitedFlag) this.post({ type: 'abort', id, reason: serializeError(abortError(signal!)) });
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    let open = true;
    try {
      let reply = this.reply(id, signal);
      this.post({ type: 'start', id, samples: audio.samples, options: rest });
      for (;;) {
        const m = await reply;
        if (m.type === 'end') {
          open = false;
          return;
        }
        if (m.type === 'failed') {
          open = false;
          throw deserializeError(m.error);
        }
        if (m.type !== 'chunk') throw new OmnicapError('INTERNAL', `unexpected ${m.type} message for generation ${id}`);
        throwIfAborted(signal);
        this.ensureOpen();
        yield m.chunk;
        throwIfAborted(signal);
        this.ensureOpen();
        reply = this.reply(id, signal);
        this.post({ type: 'next', id });
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.waiters.delete(id);
      if (open && !this.exitedFlag) this.post({ type: 'return', id });
      this.updateRef();
    }
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.disposing ??= (async () => {
      if (!this.exitedFlag && this.failure === undefined) {
        const done = this.reply(DISPOSE_ID, undefined).catch(() => undefined); // a worker that dies meanwhile is terminated below either way
        this.post({ type: 'dispose' });
        await done;
      }
      await this.worker.terminate();
      const gone = disposedError(`captioner ${this.modelId}`, 'load the model again with loadCaptioner()');
      for (const w of this.waiters.values()) w.reject(gone);
      this.waiters.clear();
    })();
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  private ensureOpen(): void {
    if (this.disposed) throw disposedError(`captioner ${this.modelId}`, 'load the model again with loadCaptioner()');
    if (this.failure !== undefined) throw this.failure;
  }

  private post(m: ToWorker): void {
    this.worker.postMessage(m);
  }

  /** The next message for `id`; rejects with the abort error as soon as `signal` aborts. */
  private reply(id: number, signal: AbortSignal | undefined): Promise<FromWorker> {
    return new Promise<FromWorker>((resolve, reject) => {
      if (this.failure !== undefined) {
        reject(this.failure);
        return;
      }
      const onAbort = (): void => {
        this.waiters.delete(id);
        this.updateRef();
        reject(abortError(signal!));
      };
      const settle = (): void => {
        signal?.removeEventListener('abort', onAbort);
        this.waiters.delete(id);
        this.updateRef();
      };
      this.waiters.set(id, {
        resolve: (m) => {
          settle();
          resolve(m);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      this.updateRef();
    });
  }

  private route(m: FromWorker): void {
    if (m.type === 'loaded' || m.type === 'load-failed') return;
    if ((m.type === 'chunk' || m.type === 'end') && m.batchStats !== undefined) this.stats = m.batchStats;
    const id = m.type === 'disposed' ? DISPOSE_ID : m.id;
    this.waiters.get(id)?.resolve(m); // none: the caller stopped waiting (abort) and the generation is being closed
  }

  private fail(e: OmnicapError): void {
    this.failure ??= e;
    for (const w of [...this.waiters.values()]) w.reject(e);
    this.waiters.clear();
  }

  /** Keep the process alive only while someone waits on the worker. */
  private updateRef(): void {
    if (this.exitedFlag) return;
    if (this.waiters.size > 0) this.worker.ref();
    else this.worker.unref();
  }
}
