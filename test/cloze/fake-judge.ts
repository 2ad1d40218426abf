/**
 * Scripted deterministic fake judge (tests only): reads the caption and the blanks from the
 * rendered prompt and, for each blank, picks the first option A-D whose text appears in the
 * caption (whole words, case-insensitive), else E. Results depend on the real caption content.
 */
import { throwIfAborted } from '../../src/util/abort';
import type { ChatMessage, ChatModel, ChatOptions, ChatResult } from '../../src/llm/types';

export function fakeJudgeAnswer(prompt: string): string {
  const cap = /CAPTION:\n<<<\n([\s\S]*?)\n>>>/.exec(prompt);
  const caption = cap && cap[1] !== '(empty caption)' ? cap[1].toLowerCase() : '';
  const blanksSection = prompt.split('BLANKS:\n')[1] ?? '';
  const answers: Record<string, string> = {};
  let current: string | undefined;
  for (const line of blanksSection.split('\n')) {
    const b = /^\[BLANK_([A-Za-z0-9-]+)\]$/.exec(line.trim());
    if (b) {
      current = b[1];
      answers[current] = 'E';
      continue;
    }
    const o = /^\s+([A-D])\) (.+)$/.exec(line);
    if (o && current !== undefined && answers[current] === 'E') {
      const re = new RegExp(`\\b${o[2].toLowerCase().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`);
      if (re.test(caption)) answers[current] = o[1];
    }
  }
  return JSON.stringify({ answers });
}

export class FakeJudge implements ChatModel {
  readonly id: string;
  calls = 0;
  readonly seen: ChatMessage[][] = [];
  /** `garbageFirst` invalid replies before valid ones; `alwaysGarbage` never answers validly. */
  constructor(private readonly script: { garbageFirst?: number; alwaysGarbage?: boolean; id?: string } = {}) {
    this.id = script.id ?? 'fake-judge';
  }

  async chat(messages: ChatMessage[], options: ChatOptions = {}): Promise<ChatResult> {
    throwIfAborted(options.signal);
    this.calls++;
    this.seen.push(messages.map((m) => ({ ...m })));
    if (this.script.alwaysGarbage === true || this.calls <= (this.script.garbageFirst ?? 0)) {
      return { text: this.calls % 2 === 0 ? '{"answers": {"1": "Z"}}' : 'I think the caption is great!', model: this.id };
    }
    return { text: fakeJudgeAnswer(messages[0].content), model: this.id };
  }
}
