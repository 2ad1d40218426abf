/**
 * The optional text LLM behind text-only /v1/chat/completions (the agent side of clients such as
 * the reference Omni-Detective, which send the agent and the audio observer to one base URL).
 * It has its own queue, so a long agent call never holds the captioner's slot and vice versa.
 */
import type { ChatModel } from '../llm/types';
import type { Logger } from '../util/log';
import { Loadable } from './loadable';
import { Scheduler } from './scheduler';

export interface TextLlmConfig {
  /** A loaded model (not disposed by the server unless `dispose`) or a loader the server owns. */
  model: ChatModel | (() => Promise<ChatModel>);
  dispose: boolean;
  maxQueue: number;
}

export class TextLlm extends Loadable<ChatModel> {
  readonly scheduler: Scheduler;

  constructor(config: TextLlmConfig, logger: Logger) {
    super({
      name: 'the text LLM',
      source: config.model,
      release: config.dispose ? async (model) => model.dispose() : undefined,
      onReady: (model, ms) => logger.info({ model: model.id, ms }, 'text llm loaded'),
      onFailed: (error) => logger.error({ code: error.code, error: error.message }, 'text llm failed to load'),
    });
    this.scheduler = new Scheduler(1, config.maxQueue);
  }
}
