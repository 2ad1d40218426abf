/** A scripted fake ChatModel for unit tests of the agent loop (never used by the product path). */
import { disposedError } from '../../src/errors';
import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from '../../src/llm/types';

export type ScriptStep = string | ((messages: ChatMessage[]) => string);

export class ScriptedChatModel implements ChatModel {
  readonly id = 'scripted-test-llm';
  readonly calls: Array<{ messages: ChatMessage[]; options?: ChatOptions }> = [];
  private i = 0;
  private disposed = false;
  /** `perConversation`: the step is chosen by the number of assistant turns so far (stateless, safe for concurrent clips). */
  constructor(private readonly script: ScriptStep[], private readonly synthesis: ScriptStep = copyObservations, private readonly perConversation = false) {}

  async chat(messages: ChatMessage[], options?: ChatOptions): Promise<ChatResult> {
    if (this.disposed) throw disposedError('the scripted test LLM');
    this.calls.push({ messages: messages.map((m) => ({ ...m })), options });
    const isSynthesis = options?.json !== true;
    const step = isSynthesis ? this.synthesis : this.script[this.perConversation ? messages.filter((m) => m.role === 'assistant').length : this.i++] ?? '{"action":"finish"}';
    const text = typeof step === 'string' ? step : step(messages);
    return { text, model: this.id, usage: { promptTokens: messages.reduce((n, m) => n + m.content.length, 0), completionTokens: text.length } };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/**
 * Synthesis stand-in: a caption made of the established facts (the FACTS block), verbatim, without
 * the storyline's layout (its headings, stream tags and the clip-kind instruction after the facts).
 */
export function copyObservations(messages: ChatMessage[]): string {
  const prompt = messages[messages.length - 1].content;
  const facts = /FACTS:\n([\s\S]*?)\n\n(?:Write the caption|Reply with the caption|An earlier caption)/.exec(prompt)?.[1] ?? '';
  const lines = facts.split('\n').filter((l) => !/^(?:In time order|The whole clip):$/.test(l) && !/^The clip (?:has no picture|is a video)[^.]*: (?:describe|tell)/.test(l));
  return `In this clip: ${lines.map((l) => l.replace(/^\[[^\]]+\] /, '')).join(' ')}`;
}
