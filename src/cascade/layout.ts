/**
 * Multiple-choice QA files as released: MMAU test-mini (a JSON array: id, audio_id, question,
 * choices, answer, dataset, task, split, category, sub-category, difficulty), MMAR-meta (JSONL: id,
 * audio_path, question, choices, answer, modality, category, sub-category, language, source, ...)
 * and this project's own JSONL (id, path | audio_path, question, choices, answer, modality?,
 * category?, sub-category?). Media paths are resolved relative to the QA file. A line that cannot
 * be read is reported with its line number and skipped; it is never scored.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { OmnicapError } from '../errors';
import { parseJsonlLines, readInputText, type LineResult } from '../util/jsonl';

export type QaLayout = 'mmau' | 'mmar' | 'omnicap';
export const QA_LAYOUTS: readonly QaLayout[] = ['mmau', 'mmar', 'omnicap'];

export interface QaItem {
  /** The question id as a string (numbers as their decimal text). */
  id: string;
  /** 1-based line of the item in the QA file (its first line for a pretty-printed JSON array). */
  line: number;
  /** Absolute media path, resolved relative to the QA file. */
  media: string;
  question: string;
  choices: string[];
  /** The answer's text, as written in the file. */
  answer: string;
  /** Index of the first choice equal to the answer (case- and space-insensitive). */
  answerIndex: number;
  modality: string;
  category: string;
  subCategory: string;
  /** The item as read, every field kept. */
  item: Record<string, unknown>;
}

export interface QaLineError {
  line: number;
  code: string;
  message: string;
}

export interface QaFile {
  file: string;
  layout: QaLayout;
  items: QaItem[];
  errors: QaLineError[];
}

const bad = (m: string): OmnicapError => new OmnicapError('INVALID_ARGUMENT', m);

/** Choice text as compared by the plain choice match: trimmed, lowercased, inner spaces collapsed. */
export const normalizeChoice = (s: string): string => s.trim().toLowerCase().replace(/\s+/g, ' ');

function text(v: unknown, field: string): string {
  if (typeof v === 'string' && v.trim() !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  throw bad(`"${field}" must be a non-empty string`);
}

/** A grouping field: a string, a number, or a list of them (MMAU writes a few categories as ["Reasoning"]). */
function group(v: unknown): string {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x.trim() !== '')) return v.map((x: string) => x.trim()).join(' + ');
  return 'unknown';
}

const FIELDS: Record<QaLayout, { media: string[]; modality: string[]; sub: string[] }> = {
  mmau: { media: ['audio_id'], modality: ['task'], sub: ['sub-category'] },
  mmar: { media: ['audio_path'], modality: ['modality'], sub: ['sub-category'] },
  omnicap: { media: ['path', 'audio_path', 'audio_id', 'media', 'audio', 'video'], modality: ['modality', 'task'], sub: ['sub-category', 'sub_category', 'subcategory'] },
};

/** One question of a QA file in `layout`; media paths are resolved against `base` (the file's folder). */
export function parseQaItem(v: unknown, layout: QaLayout, base: string, line: number): QaItem {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad('an item must be a JSON object');
  const o = v as Record<string, unknown>;
  const f = FIELDS[layout];
  const id = text(o.id, 'id');
  const mediaField = f.media.find((k) => typeof o[k] === 'string' && (o[k] as string).trim() !== '');
  if (mediaField === undefined) throw bad(`question ${id}: needs a media path in ${f.media.map((k) => `"${k}"`).join(' or ')}`);
  const ref = (o[mediaField] as string).trim();
  const media = isAbsolute(ref) ? ref : resolve(base, ref);
  const question = text(o.question, 'question');
  if (!Array.isArray(o.choices) || o.choices.length < 2) throw bad(`question ${id}: "choices" must be an array of at least 2 strings`);
  const choices = o.choices.map((c, i) => {
    if (typeof c === 'number' && Number.isFinite(c)) return String(c);
    if (typeof c !== 'string' || c.trim() === '') throw bad(`question ${id}: choice ${i + 1} must be a non-empty string`);
    return c;
  });
  if (choices.length > 26) throw bad(`question ${id}: at most 26 choices (A-Z) but has ${choices.length}`);
  let answer = text(o.answer, 'answer');
  let answerIndex = choices.findIndex((c) => normalizeChoice(c) === normalizeChoice(answer));
  // this project's layout may also give the answer as a letter
  const letter = answer.trim();
  if (answerIndex < 0 && layout === 'omnicap' && /^[A-Z]$/.test(letter) && letter.charCodeAt(0) - 65 < choices.length) {
    answerIndex = letter.charCodeAt(0) - 65;
    answer = choices[answerIndex];
  }
  if (answerIndex < 0) throw bad(`question ${id}: the answer ${JSON.stringify(answer)} is not one of the choices`);
  const pick = (keys: string[]): string => group(o[keys.find((k) => o[k] !== undefined && o[k] !== null) ?? keys[0]]);
  return {
    id, line, media, question, choices, answer, answerIndex,
    modality: pick(f.modality), category: group(o.category), subCategory: pick(f.sub), item: o,
  };
}

/**
 * The top-level elements of a JSON array text with their offsets, found by a scanner that knows
 * strings and nesting, so that each element can be parsed (and fail) on its own.
 */
export function splitJsonArray(textIn: string): Array<{ start: number; text: string }> {
  const out: Array<{ start: number; text: string }> = [];
  let i = textIn.indexOf('[');
  if (i < 0) return out;
  let depth = 0;
  let inString = false;
  let escape = false;
  let start = -1;
  const close = (end: number): void => {
    if (start >= 0) out.push({ start, text: textIn.slice(start, end).trim() });
    start = -1;
  };
  for (i = i + 1; i < textIn.length; i++) {
    const c = textIn[i];
    if (inString) {
      if (escape) escape = false;
      else if (c === '\\') escape = true;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    if (depth === 0) {
      if (c === ',') {
        close(i);
        continue;
      }
      if (c === ']') {
        close(i);
        return out;
      }
      if (start < 0 && !/\s/.test(c)) start = i;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  close(textIn.length); // unterminated array: the last element is reported by its parse
  return out;
}

const lineAt = (textIn: string, offset: number): number => {
  let n = 1;
  for (let i = 0; i < offset; i++) if (textIn.charCodeAt(i) === 10) n++;
  return n;
};

/** The layout of a QA file's text: a JSON array is MMAU; JSONL lines with "audio_path" and "modality" are MMAR; anything else is this project's. */
export function detectLayout(textIn: string): QaLayout {
  if (textIn.trimStart().startsWith('[')) return 'mmau';
  for (const l of textIn.split('\n')) {
    if (l.trim() === '') continue;
    try {
      const o = JSON.parse(l) as Record<string, unknown>;
      if (typeof o !== 'object' || o === null) continue;
      if ('audio_path' in o && 'modality' in o) return 'mmar';
      if ('audio_id' in o && 'task' in o) return 'mmau';
      return 'omnicap';
    } catch {
      continue; // a broken first line is reported by the parse; detection reads the next one
    }
  }
  return 'omnicap';
}

/** Read a QA file; `layout` 'auto' (default) detects it. Items with a duplicate id are reported and skipped. */
export async function readQaFile(file: string, layout: QaLayout | 'auto' = 'auto'): Promise<QaFile> {
  const textIn = await readInputText(file, 'QA file');
  const chosen = layout === 'auto' ? detectLayout(textIn) : layout;
  const base = dirname(resolve(file));
  // a JSON array (MMAU) is split into its elements, each parsed on its own (as one line: JSON strings
  // hold no raw newline) and reported at its first line
  const results: Array<LineResult<QaItem>> = textIn.trimStart().startsWith('[')
    ? splitJsonArray(textIn).map((e) => {
      const line = lineAt(textIn, e.start);
      return parseJsonlLines(e.text.replace(/\n/g, ' '), (v) => parseQaItem(v, chosen, base, line)).map((r) => ({ ...r, line }))[0];
    })
    : parseJsonlLines(textIn, (v) => parseQaItem(v, chosen, base, 0)).map((r) => (r.ok ? { ...r, value: { ...r.value, line: r.line } } : r));
  const items: QaItem[] = [];
  const errors: QaLineError[] = [];
  const seen = new Set<string>();
  for (const r of results) {
    if (!r.ok) {
      errors.push({ line: r.line, code: r.error.code, message: r.error.message.replace(/^line \d+: /, `line ${r.line}: `) });
    } else if (seen.has(r.value.id)) {
      errors.push({ line: r.line, code: 'INVALID_ARGUMENT', message: `line ${r.line}: duplicate question id ${JSON.stringify(r.value.id)}` });
    } else {
      seen.add(r.value.id);
      items.push(r.value);
    }
  }
  return { file, layout: chosen, items, errors };
}
