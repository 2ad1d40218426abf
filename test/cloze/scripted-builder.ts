import { disposedError } from '../../src/errors';
import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from '../../src/llm/types';
import { captionOf, fakeJudgeReply } from './fake-judge';

/**
 * Scripted builder LLM (tests only): blank proposals come from a per-caption script and distractors
 * from a per-answer script; judge calls are answered by the content-reading fake judge, which with
 * an empty caption reads the blank's sentence instead (so a span that still appears elsewhere in
 * the sentence "leaks").
 */
export class ScriptedBuilder implements ChatModel {
  readonly id = 'scripted-builder';
  calls = 0;
  private disposed = false;
  constructor(private readonly script: Record<string, { blanks: unknown; distractors: Record<string, string[]> }>) {}
  async chat(messages: ChatMessage[], _o?: ChatOptions): Promise<ChatResult> {
    if (this.disposed) throw disposedError('the scripted builder');
    this.calls++;
    const p = messages[messages.length - 1].content;
    if (p.startsWith('You are making a cloze test')) {
      const key = Object.keys(this.script).find((k) => p.includes(k));
      return { text: JSON.stringify({ blanks: key ? this.script[key].blanks : [] }), model: this.id };
    }
    const hidden = /HIDDEN ANSWER: (.*)/.exec(p)?.[1]?.trim().toLowerCase();
    if (hidden !== undefined) {
      const all = Object.assign({}, ...Object.values(this.script).map((s) => s.distractors)) as Record<string, string[]>;
      const hit = Object.entries(all).find(([k]) => k.toLowerCase() === hidden);
      return { text: JSON.stringify({ distractors: hit ? hit[1] : [] }), model: this.id };
    }
    const caption = captionOf(messages[0].content);
    const sentence = /SENTENCE:\n(.*)/.exec(p)?.[1] ?? '';
    return { text: fakeJudgeReply(caption === '' ? sentence.replace(/____|\[\.\.\.\]/g, ' ') : caption, p), model: this.id };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
