/**
 * Whisper speech recognition in one persistent child process: faster-whisper (CTranslate2, CPU,
 * int8) in the Python venv that scripts/setup-asr.sh creates, running ./whisper_worker.py. The model
 * loads once per worker; requests go one at a time as JSON lines over stdio, the samples as a
 * float32 temp file. An abort kills the child (the next request starts a fresh one); dispose() ends it.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { OmnicapError, disposedError } from '../../errors';
import { abortError, throwIfAborted } from '../../util/abort';
import { packageRoot } from '../../util/paths';
import { assertTrustedFile } from '../../util/trusted-file';
import { withTempDir } from './proc';

export type WhisperModelName = 'base' | 'tiny.en';

export interface WhisperWorkerOptions {
  /** Python of the ASR venv (default models/cache/asr-venv/bin/python). */
  python?: string;
  /** CTranslate2 model directory (default models/cache/whisper-base). */
  modelDir?: string;
  /** CTranslate2 compute type (default int8). */
  computeType?: 'int8' | 'int8_float32' | 'float32';
  /** CTranslate2 intra-op threads (default 2). */
  threads?: number;
  /** How long the model may take to load (ms, default 60000). */
  startTimeoutMs?: number;
}

export interface WhisperSegment {
  /** Seconds from the start of the clip. */
  start: number;
  end: number;
  text: string;
  avgLogprob: number;
  noSpeechProb: number;
  compressionRatio: number;
  /** The decoding temperature that gave it: above 0 when the first pass failed Whisper's quality thresholds and was retried. */
  temperature?: number;
}

export interface WhisperResult {
  segments: WhisperSegment[];
  /** Language Whisper detected (or the one requested). */
  language: string | null;
  languageProbability: number | null;
  /** Seconds the worker spent decoding. */
  seconds: number;
}

export interface TranscribeOptions {
  /** ISO 639-1 code; detected per chunk when omitted (multilingual models only). */
  language?: string;
  beamSize?: number;
  /**
   * Retry a chunk at rising temperatures (0.2 ... 1.0) when its pass fails Whisper's quality
   * thresholds (compression ratio, log-probability), as faster-whisper does by default (default
   * true). Off: one pass at temperature 0, for callers that only ask whether a chunk holds confident
   * speech (music and singing fail the thresholds and would be decoded up to six times).
   */
  fallback?: boolean;
  signal?: AbortSignal;
}

export function asrCacheDir(): string {
  return join(packageRoot(), 'models', 'cache');
}

export function defaultWhisperPython(): string {
  return join(asrCacheDir(), 'asr-venv', 'bin', 'python');
}

export function defaultWhisperModelDir(model: WhisperModelName = 'base'): string {
  return join(asrCacheDir(), model === 'base' ? 'whisper-base' : 'whisper-tiny-en');
}

/** True when the venv and the model files that scripts/setup-asr.sh installs are present. */
export function whisperAvailable(opts: Pick<WhisperWorkerOptions, 'python' | 'modelDir'> = {}): boolean {
  const dir = opts.modelDir ?? defaultWhisperModelDir();
  return existsSync(opts.python ?? defaultWhisperPython()) && existsSync(join(dir, 'model.bin')) && existsSync(join(dir, 'tokenizer.json'));
}

interface WireSegment {
  start: number;
  end: number;
  text: string;
  avg_logprob: number;
  no_speech_prob: number;
  compression_ratio: number;
  temperature: number | null;
}

interface WireTranscript {
  segments: WireSegment[];
  language: string | null;
  language_probability: number | null;
}

interface WireLabelScores {
  scores: number[][];
  token_counts: number[];
  encoded?: number;
  null_scores?: Record<string, number[]>;
}

type WireReply = { ready: true } | ({ id: number; ok: true; seconds: number } & Partial<WireTranscript> & Partial<WireLabelScores>) | { id: number; ok: false; error: string };

export interface ScoreLabelsOptions {
  /** Seconds of audio context each window is padded to before encoding (1-30). */
  contextSeconds: number;
  /** A window shorter than this is repeated back to back until it spans it, before the padding (0: never; at most contextSeconds). */
  tileSeconds?: number;
  /** Also score the labels on non-informative inputs (silence, white and pink noise) of that length. */
  nulls?: boolean;
  /** Per window, the indices of the labels to score there (default: every label in every window). */
  subsets?: ReadonlyArray<readonly number[]>;
  signal?: AbortSignal;
}

export interface LabelScores {
  /** Per window, per label (per label of the window's subset, in its order): mean log-probability of the label's tokens. */
  scores: number[][];
  /** Tokens of each label. */
  tokenCounts: number[];
  /** Per non-informative input (silence, white, pink), per label, when asked for. */
  nullScores?: Record<string, number[]>;
  /** Windows the worker had to encode (the others reused the encoder output of an earlier request on the same audio). */
  encodedWindows: number;
  seconds: number;
}

interface Running {
  child: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  /** Resolves the reply to the request in flight. */
  waiter?: { id: number; resolve: (r: WireReply) => void; reject: (e: OmnicapError) => void };
  stderr: string;
  exited?: OmnicapError;
}

export class WhisperWorker implements AsyncDisposable {
  private readonly python: string;
  private readonly modelDir: string;
  private readonly opts: WhisperWorkerOptions;
  private running?: Running;
  private queue: Promise<unknown> = Promise.resolve();
  private nextId = 1;
  private disposed = false;

  constructor(opts: WhisperWorkerOptions = {}) {
    this.opts = opts;
    this.python = opts.python ?? defaultWhisperPython();
    this.modelDir = opts.modelDir ?? defaultWhisperModelDir();
  }

  /** Process id of the live worker, if one is running. */
  get pid(): number | undefined {
    return this.running?.exited === undefined ? this.running?.child.pid : undefined;
  }

  /** Transcribe `chunks` ([start, end] seconds) of 16 kHz mono `samples`. Requests run one at a time. */
  async transcribe(samples: Float32Array, chunks: ReadonlyArray<readonly [number, number]>, opts: TranscribeOptions = {}): Promise<WhisperResult> {
    if (this.disposed) throw disposedError('the Whisper worker');
    if (chunks.length === 0) return { segments: [], language: opts.language ?? null, languageProbability: null, seconds: 0 };
    const res = await this.enqueue(samples, { chunks: chunks.map(([s, e]) => [s, e]), language: opts.language ?? null, beam_size: opts.beamSize ?? 5, fallback: opts.fallback ?? true }, opts.signal);
    if (!Array.isArray(res.segments)) throw new OmnicapError('MODEL_RUN_FAILED', 'the Whisper worker sent no segments');
    return {
      segments: res.segments.map((s) => ({ start: s.start, end: s.end, text: s.text, avgLogprob: s.avg_logprob, noSpeechProb: s.no_speech_prob, compressionRatio: s.compression_ratio, ...(s.temperature !== null && s.temperature !== undefined ? { temperature: s.temperature } : {}) })),
      language: res.language ?? null,
      languageProbability: res.language_probability ?? null,
      seconds: res.seconds,
    };
  }

  /**
   * Score text `labels` against `windows` ([start, end] seconds) of 16 kHz mono `samples` by the
   * decoder's log-probability of each label's tokens (the sound-event observer).
   */
  async scoreLabels(samples: Float32Array, windows: ReadonlyArray<readonly [number, number]>, labels: readonly string[], opts: ScoreLabelsOptions): Promise<LabelScores> {
    const subsets = opts.subsets;
    if (subsets !== undefined && (subsets.length !== windows.length || subsets.some((s) => s.some((i) => !Number.isInteger(i) || i < 0 || i >= labels.length)))) {
      throw new OmnicapError('INVALID_ARGUMENT', 'subsets must give one list of label indices per window');
    }
    const body = { op: 'score_labels', windows: windows.map(([s, e]) => [s, e]), labels, context_seconds: opts.contextSeconds, tile_seconds: opts.tileSeconds ?? 0, nulls: opts.nulls === true, ...(subsets !== undefined ? { subsets } : {}) };
    const res = await this.enqueue(samples, body, opts.signal);
    const width = (w: number): number => subsets?.[w].length ?? labels.length;
    if (!Array.isArray(res.scores) || !Array.isArray(res.token_counts) || res.scores.length !== windows.length || res.scores.some((s, w) => s.length !== width(w))) {
      throw new OmnicapError('MODEL_RUN_FAILED', 'the Whisper worker sent label scores of the wrong shape');
    }
    return { scores: res.scores, tokenCounts: res.token_counts, encodedWindows: res.encoded ?? windows.length, ...(res.null_scores !== undefined ? { nullScores: res.null_scores } : {}), seconds: res.seconds };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }

  /** Ends the worker process (a request in flight rejects with DISPOSED); later calls reject with DISPOSED. */
  async dispose(): Promise<void> {
    this.disposed = true;
    const r = this.running;
    this.running = undefined;
    if (r === undefined || r.exited !== undefined) return;
    const exited = new Promise<void>((resolve) => r.child.once('exit', () => resolve()));
    r.child.stdin.end();
    const timer = setTimeout(() => r.child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  }

  /** Requests run one at a time, in order. */
  private enqueue(samples: Float32Array, body: Record<string, unknown>, signal: AbortSignal | undefined): Promise<Extract<WireReply, { ok: true }>> {
    const run = (): Promise<Extract<WireReply, { ok: true }>> => this.run(samples, body, signal);
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined); // the caller gets p's failure; the queue only orders the requests
    return p;
  }

  private async run(samples: Float32Array, body: Record<string, unknown>, signal: AbortSignal | undefined): Promise<Extract<WireReply, { ok: true }>> {
    if (this.disposed) throw disposedError('the Whisper worker');
    throwIfAborted(signal);
    return withTempDir(async (tmp) => {
      const pcm = join(tmp, 'audio.f32');
      await writeFile(pcm, new Uint8Array(samples.buffer, samples.byteOffset, samples.byteLength));
      const r = this.start();
      let abortReject: (e: OmnicapError) => void = () => undefined;
      const aborted = new Promise<never>((_, reject) => (abortReject = reject));
      aborted.catch(() => undefined); // raced below; marked handled for the requests that finish first
      const onAbort = (): void => {
        r.child.kill('SIGKILL');
        if (this.running === r) this.running = undefined;
        const e = abortError(signal as AbortSignal);
        abortReject(e);
        r.waiter?.reject(e);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await Promise.race([r.ready, aborted]);
        throwIfAborted(signal);
        const id = this.nextId++;
        const reply = new Promise<WireReply>((resolve, reject) => (r.waiter = { id, resolve, reject }));
        if (r.exited !== undefined) throw r.exited;
        r.child.stdin.write(JSON.stringify({ id, pcm, ...body }) + '\n');
        const res = await reply;
        if ('ready' in res) throw new OmnicapError('MODEL_RUN_FAILED', 'the Whisper worker sent an unexpected reply');
        if (!res.ok) throw new OmnicapError('MODEL_RUN_FAILED', `Whisper failed on the clip: ${res.error.slice(0, 300)}`);
        return res;
      } finally {
        signal?.removeEventListener('abort', onAbort);
        r.waiter = undefined;
      }
    });
  }

  private start(): Running {
    if (this.running !== undefined && this.running.exited === undefined) return this.running;
    if (!existsSync(this.python)) throw new OmnicapError('PROVIDER_UNAVAILABLE', 'the Whisper runtime (faster-whisper venv) is not installed (run scripts/setup-asr.sh)');
    if (!existsSync(join(this.modelDir, 'model.bin'))) throw new OmnicapError('MODEL_NOT_FOUND', 'the Whisper model is not installed (run scripts/setup-asr.sh)');
    const script = join(__dirname, 'whisper_worker.py');
    assertTrustedFile(script);
    const args = [script, '--model', this.modelDir, '--compute-type', this.opts.computeType ?? 'int8', '--threads', String(this.opts.threads ?? 2)];
    const child = spawn(this.python, args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1', OMP_NUM_THREADS: String(this.opts.threads ?? 2) } });
    let onReady: () => void = () => undefined;
    let onFail: (e: OmnicapError) => void = () => undefined;
    const r: Running = {
      child,
      stderr: '',
      ready: new Promise<void>((resolve, reject) => {
        onReady = resolve;
        onFail = reject;
      }),
    };
    r.ready.catch(() => undefined); // awaited by run(); marked handled for a worker that fails before anyone waits
    const startTimer = setTimeout(() => {
      fail(new OmnicapError('MODEL_RUN_FAILED', 'the Whisper worker did not load its model in time'));
      child.kill('SIGKILL');
    }, this.opts.startTimeoutMs ?? 60_000);
    const fail = (e: OmnicapError): void => {
      clearTimeout(startTimer);
      r.exited ??= e;
      onFail(e);
      r.waiter?.reject(e);
    };
    child.stdin.on('error', (e) => fail(new OmnicapError('MODEL_RUN_FAILED', `the Whisper worker's input closed: ${e.message}`, { cause: e })));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (r.stderr = (r.stderr + d).slice(-2000)));
    child.on('error', (e) => fail(new OmnicapError('PROVIDER_UNAVAILABLE', `the Whisper worker could not start: ${e.message}`, { cause: e })));
    child.on('exit', (code, sig) => {
      const last = r.stderr.trim().split('\n').pop() ?? '';
      if (this.disposed) fail(disposedError('the Whisper worker'));
      else fail(new OmnicapError('MODEL_RUN_FAILED', `the Whisper worker exited (${sig ?? `code ${code}`})${last === '' ? '' : `: ${last.slice(0, 300)}`}`, { details: { exitCode: code, signal: sig } }));
      if (this.running === r) this.running = undefined;
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      let msg: WireReply;
      try {
        msg = JSON.parse(line) as WireReply;
      } catch {
        fail(new OmnicapError('MODEL_RUN_FAILED', `the Whisper worker wrote a non-JSON line: ${line.slice(0, 120)}`));
        child.kill('SIGKILL');
        return;
      }
      if ('ready' in msg) {
        clearTimeout(startTimer);
        return onReady();
      }
      if (r.waiter !== undefined && r.waiter.id === msg.id) r.waiter.resolve(msg);
    });
    this.running = r;
    return r;
  }
}
