/**
 * The answerer's prompt: the caption (or none, for the baseline), the question and its lettered
 * choices in MMAR's wording ("Select one option from the provided choices:"), and a JSON schema
 * that allows exactly one of the shown letters.
 */
import { sha256 } from '../util/hash';
import type { ChatMessage } from '../llm/types';

export const CASCADE_PROMPT_VERSION = 'v1';

/** Captions longer than this are cut (the record says so): a runaway caption must not overflow a small answerer's context. */
export const MAX_CAPTION_CHARS = 12_000;

const SYSTEM_CAPTION = [
  'You answer multiple-choice questions about an audio or video clip.',
  'You cannot hear or see the clip. You only have a detailed description of it, written by someone who did.',
  'Base your answer on the description; where it does not settle the question, choose the most plausible option given what it says.',
].join(' ');

const SYSTEM_BASELINE = [
  'You answer multiple-choice questions about an audio or video clip.',
  'You cannot hear or see the clip and you have no description of it.',
  'Choose the most plausible option from the question and the options alone.',
].join(' ');

export const letterOf = (i: number): string => String.fromCharCode(65 + i);

export interface AnswerPrompt {
  messages: ChatMessage[];
  /** JSON schema allowing one of the shown letters. */
  schema: object;
  letters: string[];
  captionTruncated: boolean;
}

/** Render one question: `caption` undefined is the no-caption baseline. */
export function renderAnswerPrompt(question: string, shownChoices: readonly string[], caption: string | undefined): AnswerPrompt {
  const letters = shownChoices.map((_, i) => letterOf(i));
  const options = shownChoices.map((c, i) => `${letters[i]}. ${c}`).join('\n');
  let captionTruncated = false;
  const parts: string[] = [];
  if (caption !== undefined) {
    let text = caption.trim();
    if (text.length > MAX_CAPTION_CHARS) {
      text = text.slice(0, MAX_CAPTION_CHARS);
      captionTruncated = true;
    }
    parts.push(`Description of the clip:\n<<<\n${text === '' ? '(empty description)' : text}\n>>>`);
  }
  parts.push(`Question: ${question.trim()}\nSelect one option from the provided choices:\n${options}`);
  parts.push('Reply with one JSON object: {"answer": "<the letter of your choice>"}');
  return {
    messages: [
      { role: 'system', content: caption === undefined ? SYSTEM_BASELINE : SYSTEM_CAPTION },
      { role: 'user', content: parts.join('\n\n') },
    ],
    schema: { type: 'object', properties: { answer: { type: 'string', enum: letters } }, required: ['answer'], additionalProperties: false },
    letters,
    captionTruncated,
  };
}

export const promptSha256 = (messages: readonly ChatMessage[]): string => sha256(JSON.stringify(messages));

export type AnswerParse = { ok: true; index: number } | { ok: false; reason: string };

/**
 * Read the answerer's reply: {"answer": "B"}, "B", "(B)", "B. text", "B) text", or exactly one of
 * the shown choices' texts. Anything else is invalid (re-asked, never guessed).
 */
export function parseAnswer(text: string, shownChoices: readonly string[]): AnswerParse {
  const t = text.trim().replace(/^```(?:json)?\s*/i, '').replace(/\s*```$/, '');
  let v: unknown = t;
  if (t.startsWith('{')) {
    try {
      v = (JSON.parse(t) as Record<string, unknown>).answer;
    } catch {
      return { ok: false, reason: 'the reply is not valid JSON' };
    }
  }
  if (typeof v !== 'string') return { ok: false, reason: 'the reply has no "answer" string' };
  const m = /^\s*\(?([A-Za-z])\)?(?:\s*[.:)-].*)?\s*$/s.exec(v);
  if (m !== null) {
    const i = m[1].toUpperCase().charCodeAt(0) - 65;
    if (i >= 0 && i < shownChoices.length) return { ok: true, index: i };
    return { ok: false, reason: `the answer ${JSON.stringify(m[1])} is not one of the letters A-${letterOf(shownChoices.length - 1)}` };
  }
  const exact = shownChoices.findIndex((c) => c.trim().toLowerCase() === v.trim().toLowerCase());
  if (exact >= 0) return { ok: true, index: exact };
  return { ok: false, reason: `the answer must be one letter A-${letterOf(shownChoices.length - 1)} but is ${JSON.stringify(v.slice(0, 80))}` };
}
