/**
 * `detect --format reference`: a DetectiveResult in the output shape of the reference
 * Omni-Detective (github ddlBoJack/Omni-Captioner, Omni-Detective/data/output.jsonl): the input
 * item unchanged plus `omni_detective_trajectory`, a chat transcript —
 *   system (the agent prompt), then per observation round a user turn (what the agent was told)
 *   and an assistant turn `{"tool_name": ..., "question": ...}`, then the final user turn (the
 *   synthesis prompt with all observations) and an assistant turn holding the caption JSON-encoded,
 *   exactly as the reference writes it (json.dumps of the caption string).
 */
import { formatObservations } from './agent';
import { renderPrompt, type DetectivePrompts } from './prompts';
import type { DetectiveClip, DetectiveResult } from './types';

export interface ReferenceMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** Python's json.dumps(v, ensure_ascii=False) layout, which the reference uses for assistant turns. */
export function pythonJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pythonJson).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pythonJson(x)}`).join(', ')}}`;
  return JSON.stringify(v);
}

export interface ReferenceContext {
  prompts: DetectivePrompts;
  /** The observers as the agent saw them: `- name (modality): description` lines. */
  observers: string;
  rounds: number;
}

/** The trajectory as chat messages, ending with the caption. */
export function referenceTrajectory(clip: DetectiveClip, r: DetectiveResult, c: ReferenceContext): ReferenceMessage[] {
  const msgs: ReferenceMessage[] = [{ role: 'system', content: renderPrompt(c.prompts.agent, { observers: c.observers, rounds: String(c.rounds) }) }];
  let prompt = `Clip ${JSON.stringify(clip.id)}. Round 1 of ${c.rounds}: ask your first question.`;
  for (const round of r.rounds) {
    if (round.status !== 'ok' && round.status !== 'observer_error') continue;
    msgs.push({ role: 'user', content: prompt }, { role: 'assistant', content: pythonJson({ tool_name: round.tool, question: round.question }) });
    const observation = round.status === 'ok' ? `Observation from ${round.tool}: ${round.answer}` : `Observer ${round.tool} failed (${round.error.code}): ${round.error.message}`;
    prompt = round.round < c.rounds ? `${observation}\nRound ${round.round + 1} of ${c.rounds}.` : `${observation}\nNo rounds left.`;
  }
  msgs.push({ role: 'user', content: renderPrompt(c.prompts.synthesis, { observations: formatObservations(r.rounds) }) }, { role: 'assistant', content: JSON.stringify(r.caption) });
  return msgs;
}

/** One output line: the input item as read (or `{id, path}` for directory inputs) + the trajectory. */
export function referenceRecord(clip: DetectiveClip, r: DetectiveResult, c: ReferenceContext): Record<string, unknown> {
  const item = clip.item ?? { id: clip.id, path: clip.path };
  return { ...item, omni_detective_trajectory: referenceTrajectory(clip, r, c) };
}
