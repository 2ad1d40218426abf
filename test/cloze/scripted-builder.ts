import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from '../../src/llm/types';
import { fakeJudgeAnswer } from './fake-judge';

/**
 * Scripted builder LLM (tests only): blank proposals and distractors come from a per-caption script;
 * judge prompts are answered by the content-reading fake judge, which with an empty caption
 * reads the passage instead (so a span that still appears elsewhere in the passage "leaks").
 */
export class ScriptedBuilder implements ChatModel {
  readonly id = 'scripted-builder';
  calls = 0;
  constructor(private readonly script: Record<string, { blanks: unknown; distractors: unknown }>) {}
  async chat(messages: ChatMessage[], _o?: ChatOptions): Promise<ChatResult> {
    this.calls++;
    const p = messages[messages.length - 1].content;
    const key = Object.keys(this.script).find((k) => p.includes(k));
    if (p.startsWith('BUILD-BLANKS')) return { text: JSON.stringify({ blanks: key ? this.script[key].blanks : [] }), model: this.id };
    if (p.startsWith('BUILD-DISTRACTORS')) return { text: JSON.stringify({ distractors: key ? this.script[key].distractors : {} }), model: this.id };
    const passage = /PASSAGE:\n<<<\n([\s\S]*?)\n>>>/.exec(p)?.[1] ?? '';
    return { text: fakeJudgeAnswer(p.replace('(empty caption)', passage.replace(/\[BLANK_[^\]]+\]/g, ' '))), model: this.id };
  }
}
