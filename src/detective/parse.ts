/** Validation of the detective LLM's per-round JSON reply. */
import type { DetectiveAction } from './types';

export type ParseResult = { ok: true; action: DetectiveAction } | { ok: false; error: string };

/** Extract the first balanced {...} object (LLMs sometimes wrap JSON in prose or code fences). */
function firstJsonObject(text: string): string | undefined {
  const start = text.indexOf('{');
  if (start < 0) return undefined;
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return text.slice(start, i + 1);
  }
  return undefined;
}

export const MAX_QUESTION_CHARS = 1000;

/** Validate one reply against the known tool names. */
export function parseAction(text: string, toolNames: readonly string[]): ParseResult {
  const json = firstJsonObject(text);
  if (json === undefined) return { ok: false, error: 'no JSON object found' };
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (e) {
    return { ok: false, error: `invalid JSON: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, error: 'expected a JSON object' };
  const obj = value as Record<string, unknown>;
  if (obj.action === 'finish' || obj.tool === 'finish') return { ok: true, action: { kind: 'finish' } };
  if (typeof obj.tool !== 'string') return { ok: false, error: 'missing string field "tool" (or {"tool":"finish"})' };
  if (!toolNames.includes(obj.tool)) return { ok: false, error: `unknown tool ${JSON.stringify(obj.tool)}` };
  if (typeof obj.question !== 'string' || obj.question.trim() === '') return { ok: false, error: 'missing non-empty string field "question"' };
  if (obj.question.length > MAX_QUESTION_CHARS) return { ok: false, error: `question longer than ${MAX_QUESTION_CHARS} characters` };
  return { ok: true, action: { kind: 'observe', tool: obj.tool, question: obj.question.trim() } };
}
