/**
 * CaptionerEngine: manifest-checked model directory -> ORT sessions -> captions (streamed or
 * whole), window by window for clips longer than the window length.
 */
import { collectCaption } from './collect';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { OmnicapError, disposedError, invalidParameterError } from '../errors';
import { checkEngineOptions } from '../schema/generation';
import { GENERATION_LIMITS, MAX_WINDOW_SECONDS } from '../schema/limits';
import { throwIfAborted } from '../util/abort';
import { DecodeBatcher, type BatchOptions, type BatcherStats, type BatchRow } from './batcher';
import { DecoderState, createDecoder, embedTokens, type EngineDecoder } from './decoder';
import { parseKvRequest, type KvCacheInfo } from './kv-path';
import { audioWindows, logMel, type FeatureBackend, type LogMel } from './frontend';
import { loadManifest, type ModelManifest } from './manifest';
import { ort, type OrtTensor } from './ort';
import { validatePcm } from './pcm';
import { audioTokenCount, buildPrompt, spliceAudioEmbeds, type Prompt } from './prompt';
import { parseProviderRequest, probeProviders, selectProvider, type ResolvedProvider } from './provider';
import { Sampler, type SamplerConfig } from './sampler';
import { ResidentDecoderState } from './resident/decoder';
import { createSessions, releaseSessions, type JsKvSessions, type ModelSessions } from './sessions';
import { Tokenizer } from './tokenizer';
import type { CaptionChunk, CaptionOptions, CaptionResult, CaptionTimings, Captioner, Pcm16k } from './types';
import { stitchWindows, type WindowCaption } from './stitch';
import { WorkerCaptioner } from './worker-captioner';
import type { LoadCaptionerOptions } from './load-options';

interface ResolvedOptions {
  sampler: SamplerConfig;
  maxNewTokens: number;
  windowSeconds: number;
  overlapSeconds: number;
  signal?: AbortSignal;
}

const now = (): number => performance.now();

export class CaptionerEngine implements Captioner, AsyncDisposable {
  readonly modelId: string;
  private disposed = false;
  private readonly batcher: DecodeBatcher | undefined;

  private constructor(
    readonly modelDir: string,
    readonly manifest: ModelManifest,
    readonly tokenizer: Tokenizer,
    private readonly sessions: ModelSessions,
    private readonly featureBackend: FeatureBackend,
    batch: BatchOptions | undefined,
  ) {
    this.modelId = manifest.name;
    if (batch !== undefined && sessions.kv !== 'js') throw new OmnicapError('INTERNAL', 'batched decoding needs the JS KV path');
    this.batcher = batch === undefined || sessions.kv !== 'js' ? undefined : new DecodeBatcher(sessions, manifest, batch);
  }

  /** Where the decoder's KV cache lives and why (kv-path.ts). */
  get kvCache(): Readonly<KvCacheInfo> {
    return this.sessions.kvInfo;
  }

  /** Batched-decoding counters, or undefined when batching is off. */
  get batchStats(): Readonly<BatcherStats> | undefined {
    return this.batcher?.stats;
  }

  static async load(modelDir: string, options: LoadCaptionerOptions = {}): Promise<CaptionerEngine> {
    const provider = parseProviderRequest(options.provider);
    if (options.threads !== undefined && (!Number.isInteger(options.threads) || options.threads < 1)) {
      throw invalidParameterError('threads', 'an integer >= 1', options.threads);
    }
    const probe = probeProviders();
    selectProvider(provider, probe); // an explicit 'cuda' without the EP fails before any file is read
    const manifest = await loadManifest(modelDir, { signal: options.signal, skipChecksums: options.skipChecksums });
    const resolved: ResolvedProvider = selectProvider(provider, probe, manifest.target);
    const tokenizer = await Tokenizer.fromFile(join(modelDir, manifest.tokenizer));
    buildPrompt(tokenizer, manifest.tokens, 0); // validates tokenizer vs manifest special tokens
    throwIfAborted(options.signal);
    if (options.spinning !== undefined && typeof options.spinning !== 'boolean') throw invalidParameterError('spinning', 'a boolean', options.spinning);
    const kv = parseKvRequest(options.kv);
    if (options.allowCpuFallback !== undefined && typeof options.allowCpuFallback !== 'boolean') throw invalidParameterError('allowCpuFallback', 'a boolean', options.allowCpuFallback);
    const sessions = await createSessions(modelDir, manifest, {
      provider: resolved,
      threads: options.threads,
      spinning: options.spinning ?? false,
      kv,
      batching: options.batch !== undefined,
      allowCpuFallback: options.allowCpuFallback ?? false,
      signal: options.signal,
    });
    try {
      return new CaptionerEngine(modelDir, manifest, tokenizer, sessions, options.featureBackend ?? 'auto', options.batch);
    } catch (e) {
      await releaseSessions(sessions);
      throw e;
    }
  }

  get provider(): ResolvedProvider {
    return this.sessions.provider;
  }

  /** The raw ORT sessions (benchmarks compare against bare session.run loops). */
  get ortSessions(): Readonly<ModelSessions> {
    this.ensureOpen();
    return this.sessions;
  }

  /** The sessions of an engine loaded with kv 'js' (bare session.run loops need the ORT decoder). */
  get jsSessions(): Readonly<JsKvSessions> {
    const s = this.ortSessions;
    if (s.kv !== 'js') throw new OmnicapError('INVALID_ARGUMENT', `this engine runs the decoder on the resident KV path; load it with kv: 'js' for onnxruntime-node's decoder session`);
    return s;
  }

  private ensureOpen(): void {
    if (this.disposed) throw disposedError(`captioner ${this.modelId}`, 'load the model again with loadCaptioner()');
  }

  private resolve(options: CaptionOptions): ResolvedOptions {
    checkEngineOptions(options); // the ranges of src/schema/limits.ts (the server and the CLI check the same)
    const g = this.manifest.generation;
    const sampler: SamplerConfig = {
      temperature: options.temperature ?? g.temperature,
      topK: options.topK ?? g.topK,
      topP: options.topP ?? g.topP,
      seed: options.seed ?? randomInt(0, GENERATION_LIMITS.seed.max),
    };
    return {
      sampler,
      maxNewTokens: options.maxNewTokens ?? g.maxNewTokens,
      windowSeconds: options.windowSeconds ?? MAX_WINDOW_SECONDS,
      overlapSeconds: options.overlapSeconds ?? 0,
      signal: options.signal,
    };
  }

  /** Log-mel of 16 kHz mono samples with the engine's feature backend. */
  async features(samples: Float32Array, signal?: AbortSignal): Promise<LogMel> {
    this.ensureOpen();
    return logMel(samples, this.featureBackend, signal);
  }

  /** Run the audio encoder: audio_embeds [audioTokens, hidden], checked against the token formula. */
  async encodeAudio(mel: LogMel, signal?: AbortSignal): Promise<{ embeds: OrtTensor; audioTokens: number }> {
    this.ensureOpen();
    throwIfAborted(signal);
    const a = this.manifest.config.audio;
    if (mel.numMelBins !== a.numMelBins) throw new OmnicapError('FEATURES_INVALID_INPUT', `features have ${mel.numMelBins} mel bins but the model expects ${a.numMelBins}`);
    const audioTokens = audioTokenCount(mel.frames, a.nWindow, a.tokensPerChunk);
    if (audioTokens === 0) throw new OmnicapError('MEDIA_ZERO_LENGTH', `audio of ${mel.frames} mel frames (< 10 ms) yields no audio tokens; at least 160 samples at 16 kHz are needed`);
    let out: Record<string, OrtTensor>;
    try {
      const input = new (ort().Tensor)('float32', mel.data, [mel.numMelBins, mel.frames]);
      out = (await this.sessions.audioEncoder.run({ input_features: input })) as Record<string, OrtTensor>;
    } catch (e) {
      throw new OmnicapError('MODEL_RUN_FAILED', `audio encoder failed on ${mel.frames} frames: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    const embeds = out.audio_embeds;
    if (embeds === undefined || embeds.dims.length !== 2 || embeds.dims[0] !== audioTokens || embeds.dims[1] !== this.manifest.config.text.hiddenSize) {
      throw new OmnicapError('MODEL_RUN_FAILED', `audio encoder returned audio_embeds [${embeds?.dims.join(', ') ?? ''}] for ${mel.frames} frames; expected [${audioTokens}, ${this.manifest.config.text.hiddenSize}] from the audio token formula — re-export the audio encoder`, {
        details: { frames: mel.frames, expected: audioTokens },
      });
    }
    return { embeds, audioTokens };
  }

  prompt(audioTokens: number): Prompt {
    return buildPrompt(this.tokenizer, this.manifest.tokens, audioTokens);
  }

  /** inputs_embeds [1, seq, hidden] for the prompt with the audio rows spliced in. */
  async promptEmbeds(prompt: Prompt, audioEmbeds: OrtTensor): Promise<OrtTensor> {
    this.ensureOpen();
    const emb = await embedTokens(this.sessions, prompt.ids);
    const data: unknown = emb.data;
    const audio: unknown = audioEmbeds.data;
    if (!ArrayBuffer.isView(data) || !ArrayBuffer.isView(audio)) throw new OmnicapError('MODEL_RUN_FAILED', 'embeddings are not numeric tensors');
    spliceAudioEmbeds(data as Float32Array, prompt.ids, this.manifest.tokens.audioPad, audio as Float32Array, this.manifest.config.text.hiddenSize);
    return emb;
  }

  /** A fresh decoder (own KV cache) on this engine's KV path. */
  newDecoder(): EngineDecoder {
    this.ensureOpen();
    return createDecoder(this.sessions, this.manifest);
  }

  caption(audio: Pcm16k, options: CaptionOptions = {}): Promise<CaptionResult> {
    return collectCaption(this.captionStream(audio, options));
  }

  async *captionStream(audio: Pcm16k, options: CaptionOptions = {}): AsyncGenerator<CaptionChunk, void, undefined> {
    this.ensureOpen();
    validatePcm(audio);
    const samples = audio.samples;
    const opts = this.resolve(options);
    const sampler = new Sampler(opts.sampler);
    const t0 = now();
    const audioSeconds = samples.length / 16000;
    const windows =
      audioSeconds > opts.windowSeconds ? await audioWindows(samples, opts.windowSeconds, opts.overlapSeconds) : [{ samples, startSeconds: 0, endSeconds: audioSeconds }];
    const timings: CaptionTimings = { featuresMs: 0, encoderMs: 0, prefillMs: 0, decodeMs: 0, totalMs: 0 };
    const parts: WindowCaption[] = [];
    let promptTokens = 0;
    let completionTokens = 0;
    let finishReason: CaptionResult['finishReason'] = 'stop';
    const eos = new Set(this.manifest.tokens.eos);
    const maxPos = this.manifest.config.text.maxPositionEmbeddings;
    for (let w = 0; w < windows.length; w++) {
      const win = windows[w];
      throwIfAborted(opts.signal);
      yield { type: 'window', index: w, startSeconds: win.startSeconds, endSeconds: win.endSeconds };
      let t = now();
      const mel = await this.features(win.samples, opts.signal);
      timings.featuresMs += now() - t;
      throwIfAborted(opts.signal);
      t = now();
      const enc = await this.encodeAudio(mel, opts.signal);
      timings.encoderMs += now() - t;
      throwIfAborted(opts.signal);
      t = now();
      const prompt = this.prompt(enc.audioTokens);
      const embeds = await this.promptEmbeds(prompt, enc.embeds);
      let dec: EngineDecoder | undefined = this.newDecoder();
      let row: BatchRow | undefined;
      const ids: number[] = [];
      let text = '';
      let windowFinish: CaptionResult['finishReason'] = 'length';
      // an abort stops a resident run inside ORT (prefill of a long window), not only between steps
      const stopRun = (): void => {
        if (dec instanceof ResidentDecoderState) dec.terminate();
      };
      opts.signal?.addEventListener('abort', stopRun, { once: true });
      try {
        this.ensureOpen();
        let logits = await dec.forward(embeds);
        let length = dec.length;
        if (this.batcher !== undefined && dec instanceof DecoderState) {
          row = this.batcher.join(dec);
          dec.dispose();
          dec = undefined;
        }
        timings.prefillMs += now() - t;
        promptTokens += prompt.ids.length;
        t = now();
        const stream = this.tokenizer.streamDecoder();
        for (;;) {
          throwIfAborted(opts.signal);
          this.ensureOpen();
          const id = sampler.sample(logits);
          if (eos.has(id)) {
            windowFinish = 'stop';
            break;
          }
          ids.push(id);
          const piece = stream.push(id);
          text += piece;
          yield { type: 'token', text: piece, tokenId: id, window: w };
          if (ids.length >= opts.maxNewTokens || length + 1 >= maxPos) break;
          throwIfAborted(opts.signal);
          this.ensureOpen();
          logits = row !== undefined ? await row.step(id) : await dec!.step(id);
          length++;
        }
        const tail = stream.flush();
        text += tail;
        timings.decodeMs += now() - t;
      } catch (e) {
        throwIfAborted(opts.signal); // a terminated run reports the abort, not ORT's message
        throw e;
      } finally {
        opts.signal?.removeEventListener('abort', stopRun);
        row?.leave();
        dec?.dispose();
      }
      completionTokens += ids.length;
      if (windowFinish === 'length') finishReason = 'length';
      parts.push({ text: text.trim(), startSeconds: win.startSeconds, endSeconds: win.endSeconds, tokenIds: ids });
    }
    timings.totalMs = now() - t0;
    const result: CaptionResult = {
      caption: stitchWindows(parts),
      model: this.modelId,
      audioSeconds,
      promptTokens,
      completionTokens,
      windows: windows.length,
      finishReason,
      timings,
    };
    yield { type: 'done', result };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.batcher?.dispose();
    await releaseSessions(this.sessions);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/**
 * Load a captioner model directory (manifest + checksums + sessions). `runtime: 'worker'` hosts
 * the sessions on a worker thread and returns a {@link WorkerCaptioner} (the {@link Captioner}
 * API); otherwise the in-thread {@link CaptionerEngine}, which also exposes the engine's steps.
 */
export function loadCaptioner(modelDir: string, options: LoadCaptionerOptions & { runtime: 'worker' }): Promise<WorkerCaptioner>;
export function loadCaptioner(modelDir: string, options?: LoadCaptionerOptions & { runtime?: 'main' }): Promise<CaptionerEngine>;
export function loadCaptioner(modelDir: string, options?: LoadCaptionerOptions): Promise<CaptionerEngine | WorkerCaptioner>;
export async function loadCaptioner(modelDir: string, options: LoadCaptionerOptions = {}): Promise<CaptionerEngine | WorkerCaptioner> {
  if (options.runtime !== undefined && options.runtime !== 'main' && options.runtime !== 'worker') {
    throw invalidParameterError('runtime', '"main" or "worker"', options.runtime);
  }
  return options.runtime === 'worker' ? WorkerCaptioner.load(modelDir, options) : CaptionerEngine.load(modelDir, options);
}
