/**
 * LocalChatModel: an in-process-owned local LLM (GGUF via node-llama-cpp on CPU) behind the
 * ChatModel interface. node-llama-cpp is an ES module, so it runs in a child Node process that
 * this object owns; calls are serialized there. Default model: the embedded Qwen2.5-Coder-1.5B-Instruct
 * Q4_K_M GGUF installed by scripts/setup-models.sh into models/cache/ (models/embedded/models.json).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { OmnicapError, disposedError } from '../errors';
import { abortError, throwIfAborted } from '../util/abort';
import { packageRoot } from '../util/paths';
import { assertTrustedFile, privateDir } from '../util/trusted-file';
import { LLM_LIMITS } from '../schema/limits';
import { checkLlmCallOptions, checkLlmResources } from '../schema/llm';
import { MAX_SAVED_STATES, modelStateIdentity, warnLlmState } from './state';
import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from './types';

/**
 * The worker script, a file of the package (the build copies it next to local.js). It is never
 * written at run time, so no other user can plant code under its name.
 */
export function localWorkerFile(): string {
  const file = join(__dirname, 'local-worker.mjs');
  assertTrustedFile(file);
  return file;
}

export const DEFAULT_LOCAL_MODEL_ID = 'qwen2.5-coder-1.5b-instruct-q4_k_m';

export function defaultLocalModelPath(): string {
  return join(packageRoot(), 'models', 'cache', 'qwen2.5-coder-1.5b-instruct', 'qwen2.5-coder-1.5b-instruct-q4_k_m.gguf');
}

export const DEFAULT_LOCAL_CONTEXT = 8192;

/** Upper bounds of the local model's settings (each at least 1; the ranges of LLM_LIMITS). */
export const LOCAL_LIMITS = { contextSize: LLM_LIMITS.contextSize.max, sequences: LLM_LIMITS.sequences.max, threads: LLM_LIMITS.threads.max } as const;

export interface LocalChatModelOptions {
  modelPath?: string;
  id?: string;
  /** Tokens of context per conversation (default 8192). */
  contextSize?: number;
  /**
   * KV sequences kept alive at once (default 1): each holds one conversation's evaluated prefix,
   * so N interleaved conversations (N concurrent clips) each re-evaluate only their new tokens.
   */
  sequences?: number;
  threads?: number;
  /** JSON schema enforced by grammar when a call asks for `json` (default: any JSON). */
  jsonSchema?: object;
  /**
   * Directory for the saved state of `persist` conversations (created private if missing; refused
   * with UNTRUSTED_FILE when another user can write it). Without it nothing is saved or loaded.
   */
  stateDir?: string;
  /** Where warnings go (a saved state that could not be used or written); default warnLlmState (a process warning). */
  onWarning?: (message: string) => void;
}

type WorkerMsg =
  | { type: 'ready'; contextSize: number }
  | { type: 'fatal'; message: string }
  | { type: 'warning'; message: string }
  | { type: 'result'; id: number; text: string; promptTokens: number; completionTokens: number; evaluatedTokens: number; finishReason: 'stop' | 'length' | 'repetition' }
  | { type: 'error'; id: number; message: string };

interface Pending {
  resolve: (r: ChatResult) => void;
  reject: (e: OmnicapError) => void;
}

export class LocalChatModel implements ChatModel {
  readonly id: string;
  /** Context tokens per conversation: as asked until the model is loaded, then as created. */
  contextTokens: number;
  readonly threads: number;
  private readonly child: ChildProcess;
  /** Resolves when the model is loaded; rejects (MODEL_INVALID) when it fails to load. Calls made before wait for it. */
  readonly loaded: Promise<void>;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: OmnicapError | undefined;
  private disposing: Promise<void> | undefined;

  private constructor(options: LocalChatModelOptions, modelPath: string, workerFile: string, state: { dir: string; identity: string } | undefined) {
    this.id = options.id ?? DEFAULT_LOCAL_MODEL_ID;
    // llama.cpp threads spin while they wait: oversubscribing cores (several models or jobs on one
    // machine) slows every one of them down many times, so default to half the cores
    this.threads = options.threads ?? Math.max(1, Math.floor(availableParallelism() / 2));
    const config = {
      moduleEntry: join(packageRoot(), 'node_modules', 'node-llama-cpp', 'dist', 'index.js'),
      modelPath,
      contextSize: options.contextSize ?? DEFAULT_LOCAL_CONTEXT,
      sequences: options.sequences ?? 1,
      threads: this.threads,
      jsonSchema: options.jsonSchema,
      ...(state !== undefined ? { stateDir: state.dir, stateIdentity: state.identity, maxStates: MAX_SAVED_STATES } : {}),
    };
    const warn = options.onWarning ?? warnLlmState;
    this.child = spawn(process.execPath, [workerFile], {
      env: { ...process.env, OMNICAP_LOCAL_LLM_CONFIG: JSON.stringify(config) },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    this.child.stderr?.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000)));
    this.contextTokens = Math.floor(config.contextSize / config.sequences);
    this.loaded = new Promise((resolve, reject) => {
      const fail = (e: OmnicapError): void => {
        this.dead = e;
        reject(e);
        for (const p of this.pending.values()) p.reject(e);
        this.pending.clear();
      };
      createInterface({ input: this.child.stdout! }).on('line', (line) => {
        let msg: WorkerMsg;
        try {
          msg = JSON.parse(line) as WorkerMsg;
        } catch {
          return; // llama.cpp log noise
        }
        if (msg.type === 'warning') warn(msg.message);
        else if (msg.type === 'ready') {
          this.contextTokens = msg.contextSize;
          resolve();
        }
        else if (msg.type === 'fatal') fail(new OmnicapError('MODEL_INVALID', `local LLM failed to load: ${msg.message}`));
        else {
          const p = this.pending.get(msg.id);
          this.pending.delete(msg.id);
          if (msg.type === 'result') p?.resolve({ text: msg.text, model: this.id, usage: { promptTokens: msg.promptTokens, completionTokens: msg.completionTokens, evaluatedTokens: msg.evaluatedTokens }, finishReason: msg.finishReason });
          else p?.reject(new OmnicapError('MODEL_RUN_FAILED', `local LLM error: ${msg.message}`));
        }
      });
      this.child.on('exit', (code) => fail(this.disposing !== undefined ? this.disposedError() : new OmnicapError('MODEL_RUN_FAILED', `local LLM process exited (${code}): ${stderr.trim().slice(-500)}`)));
    });
    this.loaded.catch(() => undefined); // awaited by load() or the owner; a failure reaches the pending calls through fail()
  }

  /** Process id of the model's worker process (undefined if it could not be started). */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Starts the worker and waits until the model is loaded. */
  static async load(options: LocalChatModelOptions = {}): Promise<LocalChatModel> {
    const m = LocalChatModel.start(options);
    await m.loaded;
    return m;
  }

  /**
   * Starts the worker and returns at once: the model loads while the caller goes on (e.g. runs the
   * first clip's observers); calls wait for it, and {@link loaded} tells when it is loaded or why not.
   * MODEL_NOT_FOUND, PROVIDER_UNAVAILABLE, INVALID_ARGUMENT and UNTRUSTED_FILE are thrown here.
   */
  static start(options: LocalChatModelOptions = {}): LocalChatModel {
    const modelPath = options.modelPath ?? defaultLocalModelPath();
    if (!existsSync(modelPath)) throw new OmnicapError('MODEL_NOT_FOUND', `GGUF model not found at ${modelPath} (run scripts/setup-models.sh)`);
    if (!existsSync(join(packageRoot(), 'node_modules', 'node-llama-cpp'))) throw new OmnicapError('PROVIDER_UNAVAILABLE', 'node-llama-cpp is not installed');
    checkLlmResources({ contextSize: options.contextSize, sequences: options.sequences, threads: options.threads });
    const state = options.stateDir !== undefined ? { dir: privateDir(options.stateDir), identity: modelStateIdentity(modelPath) } : undefined;
    return new LocalChatModel(options, modelPath, localWorkerFile(), state);
  }

  async chat(messages: ChatMessage[], options: ChatOptions = {}): Promise<ChatResult> {
    throwIfAborted(options.signal);
    if (this.disposing !== undefined) throw this.disposedError();
    if (this.dead !== undefined) throw this.dead;
    if (messages.length === 0 || messages[messages.length - 1].role !== 'user') {
      throw new OmnicapError('INVALID_ARGUMENT', 'the last message must be a user message');
    }
    checkLlmCallOptions(options);
    if (options.base !== undefined && (options.conversation === undefined || !messages[messages.length - 1].content.startsWith(options.base))) {
      throw new OmnicapError('INVALID_ARGUMENT', 'a base needs a conversation and must begin the last message');
    }
    const id = this.nextId++;
    const { signal, ...rest } = options;
    return new Promise<ChatResult>((resolve, reject) => {
      const onAbort = (): void => {
        this.pending.delete(id);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pending.set(id, {
        resolve: (r) => (signal?.removeEventListener('abort', onAbort), resolve(r)),
        reject: (e) => (signal?.removeEventListener('abort', onAbort), reject(e)),
      });
      this.child.stdin!.write(JSON.stringify({ id, messages, options: rest }) + '\n');
    });
  }

  private disposedError(): OmnicapError {
    return disposedError(`the local LLM ${this.id}`, 'load it again with LocalChatModel.load()');
  }

  /** Ends the model process (calls in flight reject with DISPOSED); idempotent. */
  dispose(): Promise<void> {
    this.disposing ??= (async () => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return;
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.stdin?.end();
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    })();
    return this.disposing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
