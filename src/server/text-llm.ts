/**
 * The optional text LLM behind text-only /v1/chat/completions (the agent side of clients such as
 * the reference Omni-Detective, which send the agent and the audio observer to one base URL).
 * It has its own queue, so a long agent call never holds the captioner's slot and vice versa.
 */
import { OmnicapError, disposedError, toOmnicapError } from '../errors';
import type { ChatModel } from '../llm/types';
import type { Logger } from '../util/log';
import { Scheduler } from './scheduler';

export type TextLlmState =
  | { state: 'loading' }
  | { state: 'ready'; model: ChatModel }
  | { state: 'failed'; error: OmnicapError }
  | { state: 'closed' };

export interface TextLlmConfig {
  /** A loaded model (not disposed by the server unless `dispose`) or a loader the server owns. */
  model: ChatModel | (() => Promise<ChatModel>);
  dispose: boolean;
  maxQueue: number;
}

export class TextLlm {
  readonly scheduler: Scheduler;
  private current: TextLlmState = { state: 'loading' };
  private loading: Promise<ChatModel> | undefined;

  constructor(
    private readonly config: TextLlmConfig,
    private readonly logger: Logger,
  ) {
    this.scheduler = new Scheduler(1, config.maxQueue);
  }

  get state(): TextLlmState {
    return this.current;
  }

  /** Starts loading once; resolves with the model or rejects with the load error. */
  load(): Promise<ChatModel> {
    if (this.loading !== undefined) return this.loading;
    const m = this.config.model;
    const started = performance.now();
    this.loading = (typeof m === 'function' ? m() : Promise.resolve(m)).then(
      (model) => {
        if (this.current.state === 'closed') {
          if (this.config.dispose) void model.dispose();
          throw disposedError('the server', 'it was closed while the text LLM was loading');
        }
        this.current = { state: 'ready', model };
        this.logger.info({ model: model.id, ms: Math.round(performance.now() - started) }, 'text llm loaded');
        return model;
      },
      (e: unknown) => {
        const error = toOmnicapError(e);
        if (this.current.state !== 'closed') this.current = { state: 'failed', error };
        this.logger.error({ code: error.code, error: error.message }, 'text llm failed to load');
        throw error;
      },
    );
    this.loading.catch(() => undefined); // observed through /readyz and ready()
    return this.loading;
  }

  /** The loaded model, or NOT_READY (503). */
  require(): ChatModel {
    const s = this.current;
    switch (s.state) {
      case 'ready':
        return s.model;
      case 'loading':
        throw new OmnicapError('NOT_READY', 'the text LLM is still loading; retry shortly (see /readyz)');
      case 'failed':
        throw new OmnicapError('NOT_READY', `the text LLM failed to load (${s.error.code}); see the server log`);
      case 'closed':
        throw new OmnicapError('NOT_READY', 'the server is shutting down');
    }
  }

  async close(): Promise<void> {
    const previous = this.current;
    this.current = { state: 'closed' };
    if (previous.state === 'ready' && this.config.dispose) await previous.model.dispose();
  }
}
