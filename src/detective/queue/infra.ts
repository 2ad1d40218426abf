/**
 * Per-job watch on the LLM and the observers: records the infrastructure failures (an endpoint
 * down, a timeout, a dead model process) that happened while a clip ran. The Detective turns an
 * LLM failure into a degraded caption and an observer failure into an observer_error round, which
 * is right for one bad answer but wrong for an outage: the queue worker retries such a clip instead.
 */
import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from '../../llm/types';
import type { OmnicapError } from '../../errors';
import type { DetectiveToolbox } from '../toolbox';
import { isInfrastructureFailure } from './errors';

export class InfraWatch {
  readonly failures: OmnicapError[] = [];

  private note(e: unknown): void {
    if (isInfrastructureFailure(e)) this.failures.push(e);
  }

  llm(base: ChatModel): ChatModel {
    const chat = async (messages: ChatMessage[], options?: ChatOptions): Promise<ChatResult> => {
      try {
        return await base.chat(messages, options);
      } catch (e) {
        this.note(e);
        throw e;
      }
    };
    return { id: base.id, contextTokens: base.contextTokens, chat, dispose: () => base.dispose(), [Symbol.asyncDispose]: () => base.dispose() };
  }

  toolbox(base: DetectiveToolbox): DetectiveToolbox {
    return {
      list: () => base.list(),
      calls: () => base.calls(),
      failures: () => base.failures(),
      prepare: (clip, signal) => base.prepare(clip, signal),
      release: (clip) => base.release(clip),
      dispose: () => base.dispose(),
      [Symbol.asyncDispose]: () => base.dispose(),
      observe: async (clip, tool, question, signal) => {
        try {
          return await base.observe(clip, tool, question, signal);
        } catch (e) {
          this.note(e);
          throw e;
        }
      },
    };
  }
}
