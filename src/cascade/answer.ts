/**
 * One answerer call per question (per shown order of its choices), grammar-constrained to one of
 * the shown letters, with bounded re-asks on an invalid reply. A call that still fails is an error
 * outcome with its code and message, never a prediction.
 */
import { toOmnicapError } from '../errors';
import type { ChatMessage, ChatModel, ChatOptions } from '../llm/types';
import { throwIfAborted } from '../util/abort';
import { hashString, mulberry32 } from '../cloze/prompt';
import { parseAnswer, renderAnswerPrompt } from './prompt';

export interface AnswerOptions {
  answerer: ChatModel;
  seed?: number;
  /** Re-asks after an invalid reply (default 2). */
  maxReasks?: number;
  signal?: AbortSignal;
}

export type AnswerOutcome =
  | { ok: true; shownIndex: number; raw: string; model: string; attempts: number; messages: ChatMessage[]; captionTruncated: boolean }
  | { ok: false; error: { code: string; message: string }; raw?: string; attempts: number; messages: ChatMessage[]; captionTruncated: boolean };

/**
 * The shown order of a question's choices: identity for permutation 0, else a seeded shuffle of
 * (seed, question id, permutation). `order[shown] = original index`.
 */
export function choiceOrder(count: number, seed: number, id: string, perm: number): number[] {
  const order = Array.from({ length: count }, (_, i) => i);
  if (perm === 0) return order;
  const rnd = mulberry32((seed ^ hashString(`${id}\u0000${perm}`)) >>> 0);
  for (let i = count - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

export async function answerQuestion(question: string, shownChoices: readonly string[], caption: string | undefined, o: AnswerOptions): Promise<AnswerOutcome> {
  const prompt = renderAnswerPrompt(question, shownChoices, caption);
  const messages = [...prompt.messages];
  const maxReasks = o.maxReasks ?? 2;
  let attempts = 0;
  let raw: string | undefined;
  let reason = '';
  for (let round = 0; round <= maxReasks; round++) {
    throwIfAborted(o.signal);
    attempts++;
    const chat: ChatOptions = { temperature: 0, json: true, jsonSchema: prompt.schema, maxTokens: 16, signal: o.signal };
    if (o.seed !== undefined) chat.seed = o.seed;
    let reply;
    try {
      reply = await o.answerer.chat(messages, chat);
    } catch (e) {
      const err = toOmnicapError(e, 'UPSTREAM_ERROR');
      if (err.code === 'ABORTED' || o.signal?.aborted === true) throw err;
      return { ok: false, error: { code: err.code, message: err.message }, ...(raw !== undefined ? { raw } : {}), attempts, messages: prompt.messages, captionTruncated: prompt.captionTruncated };
    }
    raw = reply.text;
    const parsed = parseAnswer(reply.text, shownChoices);
    if (parsed.ok) return { ok: true, shownIndex: parsed.index, raw: reply.text, model: reply.model, attempts, messages: prompt.messages, captionTruncated: prompt.captionTruncated };
    reason = parsed.reason;
    messages.push({ role: 'assistant', content: reply.text }, { role: 'user', content: `Your reply was invalid: ${parsed.reason}. Reply with only {"answer": "<one of ${prompt.letters.join(', ')}>"}.` });
  }
  return { ok: false, error: { code: 'LLM_BAD_OUTPUT', message: `no valid answer after ${attempts} calls: ${reason}` }, raw, attempts, messages: prompt.messages, captionTruncated: prompt.captionTruncated };
}
