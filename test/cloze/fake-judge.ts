/**
 * Scripted deterministic fake judge (tests only), speaking the judge's one-blank-per-call protocol:
 * reads the caption from the system message and the options from the blank's question, picks the
 * first option A-D whose text appears in the caption (whole words, case-insensitive) and quotes it
 * as evidence, else E with evidence "none". Results depend on the real caption content.
 */
import { disposedError } from '../../src/errors';
import { throwIfAborted } from '../../src/util/abort';
import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from '../../src/llm/types';

export function captionOf(system: string): string {
  const cap = /CAPTION:\n<<<\n([\s\S]*?)\n>>>/.exec(system);
  return cap && cap[1] !== '(empty caption)' ? cap[1] : '';
}

export function fakeJudgeReply(caption: string, question: string): string {
  const lower = caption.toLowerCase();
  for (const line of question.split('\n')) {
    const o = /^([A-D])\) (.+)$/.exec(line);
    if (o && new RegExp(`\\b${o[2].toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(lower)) return JSON.stringify({ evidence: o[2], answer: o[1] });
  }
  return JSON.stringify({ evidence: 'none', answer: 'E' });
}

export class FakeJudge implements ChatModel {
  readonly id: string;
  calls = 0;
  readonly seen: ChatMessage[][] = [];
  private disposed = false;
  /** `garbageFirst` invalid replies before valid ones; `alwaysGarbage` never answers validly. */
  constructor(private readonly script: { garbageFirst?: number; alwaysGarbage?: boolean; id?: string } = {}) {
    this.id = script.id ?? 'fake-judge';
  }

  async chat(messages: ChatMessage[], options: ChatOptions = {}): Promise<ChatResult> {
    throwIfAborted(options.signal);
    if (this.disposed) throw disposedError('the fake judge');
    this.calls++;
    this.seen.push(messages.map((m) => ({ ...m })));
    if (this.script.alwaysGarbage === true || this.calls <= (this.script.garbageFirst ?? 0)) {
      return { text: this.calls % 2 === 0 ? '{"answers": {"1": "Z"}}' : 'I think the caption is great!', model: this.id };
    }
    return { text: fakeJudgeReply(captionOf(messages[0].content), messages[1].content), model: this.id };
  }

  async dispose(): Promise<void> {
    this.disposed = true;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}
