/**
 * A text LLM's options (src/llm): those of one call (ChatOptions) and those of the model's process or
 * client (LlmResources), from the ranges of limits.ts. The LLM backends check them; the commands'
 * flags take the same ranges (LLM_LIMITS), so a value the server refuses is refused everywhere.
 */
import { Type, type Static } from '@sinclair/typebox';
import { LLM_LIMITS as L } from './limits';
import { rangedNumber } from './types';
import { checker } from './validate';

/** The numeric options of one chat call; other keys (messages' signal, JSON schema, ...) are left alone. */
export const LlmCallOptions = Type.Object({
  temperature: Type.Optional(rangedNumber(L.temperature, { description: '0 = greedy' })),
  topP: Type.Optional(rangedNumber(L.topP, { description: '1 = off' })),
  maxTokens: Type.Optional(rangedNumber(L.maxTokens)),
  seed: Type.Optional(rangedNumber(L.seed)),
  repeatPenalty: Type.Optional(rangedNumber(L.repeatPenalty, { description: '1 = off; local model only' })),
});
export type LlmCallOptionValues = Static<typeof LlmCallOptions>;

/** What runs the model: a local model's threads, KV sequences and context; an endpoint's timeout. */
export const LlmResourceOptions = Type.Object({
  threads: Type.Optional(rangedNumber(L.threads)),
  sequences: Type.Optional(rangedNumber(L.sequences)),
  contextSize: Type.Optional(rangedNumber(L.contextSize)),
  timeoutMs: Type.Optional(rangedNumber(L.timeoutMs)),
});
export type LlmResourceValues = Static<typeof LlmResourceOptions>;

const callOptions = checker(LlmCallOptions);
const resources = checker(LlmResourceOptions);

/** INVALID_ARGUMENT (naming the option, e.g. `topP`) unless a call's options lie in LLM_LIMITS. */
export function checkLlmCallOptions(o: LlmCallOptionValues): void {
  callOptions(o);
}

/** INVALID_ARGUMENT (naming the option, e.g. `threads`) unless the resources lie in LLM_LIMITS. */
export function checkLlmResources(o: LlmResourceValues): void {
  resources(o);
}
