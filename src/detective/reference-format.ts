/**
 * `detect --format reference`: a DetectiveResult in the output shape of the reference
 * Omni-Detective (github ddlBoJack/Omni-Captioner, Omni-Detective/data/output.jsonl): the input
 * item unchanged plus `omni_detective_trajectory`, a chat transcript — the detective's own
 * conversation as it ran (system prompt, per round the user turn and an assistant turn
 * `{"tool_name": ..., "question": ...}`, the synthesis prompt), then an assistant turn holding the
 * caption JSON-encoded, exactly as the reference writes it (json.dumps of the caption string).
 */
import { parseAction } from './parse';
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

/** The trajectory as chat messages, ending with the caption. */
export function referenceTrajectory(r: DetectiveResult): ReferenceMessage[] {
  const names = r.offered;
  const msgs: ReferenceMessage[] = r.messages.map((m) => {
    if (m.role !== 'assistant') return { role: m.role, content: m.content };
    const a = parseAction(m.content, names);
    if (!a.ok) return { role: 'assistant', content: m.content };
    return { role: 'assistant', content: a.action.kind === 'finish' ? pythonJson({ tool_name: 'finish', question: '' }) : pythonJson({ tool_name: a.action.tool, question: a.action.question }) };
  });
  msgs.push({ role: 'assistant', content: JSON.stringify(r.caption) });
  return msgs;
}

/** One output line: the input item as read (or `{id, path}` for directory inputs) + the trajectory. */
export function referenceRecord(clip: DetectiveClip, r: DetectiveResult): Record<string, unknown> {
  const item = clip.item ?? { id: clip.id, path: clip.path };
  const record: Record<string, unknown> = { ...item, omni_detective_trajectory: referenceTrajectory(r) };
  // the reference shape has no status: a degraded caption says so in one extra field
  if (r.status === 'degraded') record.omnicap = { status: r.status, degraded_reasons: r.degradedReasons };
  return record;
}
