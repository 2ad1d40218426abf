/**
 * The Omni-Detective agent loop. The detective LLM cannot perceive the clip: each round it asks
 * one observer one question (validated JSON), then a separate synthesis call writes the caption
 * from the recorded observations only.
 */
import { invalidParameterError, toOmnicapError } from '../errors';
import type { ChatMessage, ChatModel, ChatResult } from '../llm/types';
import { throwIfAborted } from '../util/abort';
import { parseAction } from './parse';
import { loadDetectivePrompts, promptRecords, renderPrompt, type DetectivePrompts } from './prompts';
import type { DetectiveClip, DetectiveOptions, DetectiveResult, DetectiveRound, DetectiveUsage, ObserverToolbox } from './types';

export const DEFAULT_ROUNDS = 10;

function describeObservers(tools: ObserverToolbox): string {
  return tools
    .list()
    .map((o) => `- ${o.name} (${o.modality}): ${o.description}`)
    .join('\n');
}

/** The observations block of the synthesis prompt (successful and failed rounds). */
export function formatObservations(rounds: readonly DetectiveRound[]): string {
  const lines: string[] = [];
  for (const r of rounds) {
    if (r.status === 'ok') lines.push(`[${r.round}] ${r.tool} | Q: ${r.question}\n    A: ${r.answer}`);
    else if (r.status === 'observer_error') lines.push(`[${r.round}] ${r.tool} | Q: ${r.question}\n    FAILED (${r.error.code}): ${r.error.message}`);
  }
  return lines.length === 0 ? '(no observations)' : lines.join('\n');
}

class UsageMeter {
  readonly usage: DetectiveUsage = { promptTokens: 0, completionTokens: 0, llmCalls: 0 };
  model = '';
  add(r: ChatResult): ChatResult {
    this.usage.llmCalls += 1;
    this.usage.promptTokens += r.usage?.promptTokens ?? 0;
    this.usage.completionTokens += r.usage?.completionTokens ?? 0;
    this.model = r.model;
    return r;
  }
}

export interface RunDetectiveOptions extends DetectiveOptions {
  /** Pre-loaded prompts (default: the current version from prompts/detective). */
  prompts?: DetectivePrompts;
}

export async function runDetective(clip: DetectiveClip, llm: ChatModel, tools: ObserverToolbox, options: RunDetectiveOptions = {}): Promise<DetectiveResult> {
  const rounds = options.rounds ?? DEFAULT_ROUNDS;
  if (!Number.isInteger(rounds) || rounds < 0 || rounds > 100) throw invalidParameterError('rounds', 'an integer in [0, 100]', rounds);
  const maxReasks = options.maxReasks ?? 2;
  const seed = options.seed ?? 0;
  const { signal } = options;
  const prompts = options.prompts ?? loadDetectivePrompts();
  const started = Date.now();
  const names = tools.list().map((o) => o.name);
  const meter = new UsageMeter();
  const chat = async (messages: ChatMessage[], json: boolean, maxTokens: number): Promise<string> =>
    meter.add(await llm.chat(messages, { json, seed, temperature: options.temperature ?? 0, maxTokens, signal })).text;

  const messages: ChatMessage[] = [
    { role: 'system', content: renderPrompt(prompts.agent, { observers: describeObservers(tools), rounds: String(rounds) }) },
    { role: 'user', content: `Clip ${JSON.stringify(clip.id)}. Round 1 of ${rounds}: ask your first question.` },
  ];
  const trajectory: DetectiveRound[] = [];
  for (let round = 1; round <= rounds; round++) {
    throwIfAborted(signal);
    const t0 = Date.now();
    let reply = await chat(messages, true, 256);
    let parsed = parseAction(reply, names);
    for (let k = 0; !parsed.ok && k < maxReasks; k++) {
      messages.push({ role: 'assistant', content: reply }, { role: 'user', content: renderPrompt(prompts.reask, { error: parsed.error, names: names.join(', ') }) });
      reply = await chat(messages, true, 256);
      parsed = parseAction(reply, names);
    }
    if (!parsed.ok) {
      trajectory.push({ round, status: 'invalid_output', raw: reply, error: { code: 'LLM_BAD_OUTPUT', message: parsed.error }, ms: Date.now() - t0 });
      messages.push({ role: 'assistant', content: reply }, { role: 'user', content: `That round failed. Round ${round + 1} of ${rounds}: reply with valid JSON.` });
      continue;
    }
    const action = parsed.action;
    if (action.kind === 'finish') {
      trajectory.push({ round, status: 'finish', ms: Date.now() - t0 });
      break;
    }
    messages.push({ role: 'assistant', content: JSON.stringify({ tool: action.tool, question: action.question }) });
    let observation: string;
    try {
      const r = await tools.observe(clip, action.tool, action.question, signal);
      const rec: DetectiveRound = { round, status: 'ok', tool: action.tool, question: action.question, answer: r.answer, cached: r.cached, ms: Date.now() - t0 };
      if (r.data !== undefined) rec.data = r.data;
      trajectory.push(rec);
      observation = `Observation from ${action.tool}: ${r.answer}`;
    } catch (e) {
      const err = toOmnicapError(e, 'UPSTREAM_ERROR');
      if (err.code === 'ABORTED' || err.code === 'TIMEOUT') throw err;
      trajectory.push({ round, status: 'observer_error', tool: action.tool, question: action.question, error: { code: err.code, message: err.message }, ms: Date.now() - t0 });
      observation = `Observer ${action.tool} failed (${err.code}): ${err.message}`;
    }
    messages.push({ role: 'user', content: round < rounds ? `${observation}\nRound ${round + 1} of ${rounds}.` : `${observation}\nNo rounds left.` });
  }
  throwIfAborted(signal);
  const caption = (
    await chat([{ role: 'user', content: renderPrompt(prompts.synthesis, { observations: formatObservations(trajectory) }) }], false, options.maxCaptionTokens ?? 512)
  ).trim();
  const toolCalls: Record<string, number> = {};
  for (const r of trajectory) if (r.status === 'ok' || r.status === 'observer_error') toolCalls[r.tool] = (toolCalls[r.tool] ?? 0) + 1;
  return {
    id: clip.id,
    caption,
    rounds: trajectory,
    toolCalls,
    usage: meter.usage,
    model: meter.model || llm.id,
    seed,
    prompts: promptRecords(prompts),
    seconds: (Date.now() - started) / 1000,
  };
}
