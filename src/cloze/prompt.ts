/** Versioned judge prompt (prompts/cloze/judge.<version>.md), rendering and strict answer parsing. */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { OmnicapError } from '../errors';
import { isRecord } from '../util/guards';
import { LETTERS, isLetter, type ClozeBlank, type Letter } from './types';

export const DEFAULT_PROMPT_VERSION = 'v2';

/** Find the repository's prompts/cloze directory by walking up from this file (works from src/ and dist/). */
export function defaultPromptsDir(): string {
  let dir = __dirname;
  for (let i = 0; i < 6; i++) {
    const c = path.join(dir, 'prompts', 'cloze');
    if (existsSync(c)) return c;
    dir = path.dirname(dir);
  }
  throw new OmnicapError('NOT_FOUND', 'prompts/cloze directory not found; pass promptsDir');
}

/** Load prompts/cloze/<name>.<version>.md (name: judge, build-blanks, build-distractors). */
export function loadClozePrompt(name: string, version: string = DEFAULT_PROMPT_VERSION, promptsDir?: string): string {
  if (!/^v[0-9]+[a-z0-9.-]*$/.test(version)) throw new OmnicapError('INVALID_ARGUMENT', `prompt version must look like "v1" but is ${JSON.stringify(version)}`);
  if (!/^[a-z-]+$/.test(name)) throw new OmnicapError('INVALID_ARGUMENT', `prompt name must be lowercase letters and dashes but is ${JSON.stringify(name)}`);
  const file = path.join(promptsDir ?? defaultPromptsDir(), `${name}.${version}.md`);
  if (!existsSync(file)) throw new OmnicapError('NOT_FOUND', `${name} prompt ${version} not found at ${file}`, { details: { file } });
  return readFileSync(file, 'utf8');
}

/**
 * The judge's templates: the system part (instructions + caption), one blank's question (the quote
 * first, then the letter), and the grounding re-ask (the same question asking for the letter first).
 */
export interface JudgeTemplates {
  system: string;
  blank: string;
  reask: string;
}

export function loadJudgePrompt(version: string = DEFAULT_PROMPT_VERSION, promptsDir?: string): JudgeTemplates {
  return { system: loadClozePrompt('judge', version, promptsDir), blank: loadClozePrompt('judge-blank', version, promptsDir), reask: loadClozePrompt('judge-reask', version, promptsDir) };
}

export interface PromptBlank {
  id: string;
  options: Record<Letter, string>;
}

/** The judge's system message: the instructions and the caption (shared by every blank of a clip). */
export function renderJudgeSystem(t: JudgeTemplates, caption: string): string {
  return t.system.replace('{{caption}}', () => (caption.trim() === '' ? '(empty caption)' : caption.trim())).trimEnd();
}

/**
 * The sentence of the passage that holds blank `id`, with that blank as "____" and any other
 * blank in it as "[...]".
 */
export function blankSentence(passage: string, id: string): string {
  const marker = `[BLANK_${id}]`;
  const at = passage.indexOf(marker);
  if (at < 0) return passage;
  const boundary = /[.!?](?=\s)/g;
  let start = 0;
  let end = passage.length;
  for (const m of passage.matchAll(boundary)) {
    const i = (m.index ?? 0) + 1;
    if (i <= at) start = i;
    else if (i > at + marker.length) {
      end = i;
      break;
    }
  }
  return passage.slice(start, end).trim().replace(marker, '____').replace(/\[BLANK_[A-Za-z0-9-]+\]/g, '[...]');
}

/** One blank's question (`template`: the blank or the re-ask template): its sentence and the five options. */
export function renderBlankQuestion(template: string, passage: string, blank: PromptBlank): string {
  const options = LETTERS.map((l) => `${l}) ${blank.options[l]}`).join('\n');
  return template.replace('{{sentence}}', () => blankSentence(passage, blank.id)).replace('{{options}}', () => options).trimEnd();
}

/** JSON schema of one blank's reply: the caption words that give the answer, then one letter A-E. */
export const LETTER_SCHEMA = {
  type: 'object',
  properties: { evidence: { type: 'string' }, answer: { type: 'string', enum: [...LETTERS] } },
  required: ['evidence', 'answer'],
  additionalProperties: false,
} as const;

/** The same reply with the letter first (the order a grammar makes the model write them in). */
export const LETTER_FIRST_SCHEMA = {
  ...LETTER_SCHEMA,
  properties: { answer: LETTER_SCHEMA.properties.answer, evidence: LETTER_SCHEMA.properties.evidence },
} as const;

/** The reply schema a question template asks for: the letter first when its reply format shows "answer" before "evidence". */
export function replySchema(template: string): object {
  const a = template.indexOf('"answer"');
  const e = template.indexOf('"evidence"');
  return a >= 0 && e >= 0 && a < e ? LETTER_FIRST_SCHEMA : LETTER_SCHEMA;
}

export type LetterParse = { ok: true; letter: Letter; evidence?: string } | { ok: false; reason: string };

/** Parse one blank's reply: {"evidence": "...", "answer": "B"}, {"answer": "B"}, "B", "B) text" or "B: text". */
export function parseLetter(text: string): LetterParse {
  const t = text.trim().replace(/^```(?:json)?\s*/i, '').replace(/\s*```$/, '');
  let v: unknown = t;
  let evidence: string | undefined;
  if (t.startsWith('{')) {
    try {
      const o = JSON.parse(t) as Record<string, unknown>;
      v = o.answer;
      if (typeof o.evidence === 'string') evidence = o.evidence;
    } catch {
      return { ok: false, reason: 'the reply is not valid JSON' };
    }
  }
  const m = typeof v === 'string' ? /^\s*\(?([A-Ea-e])\)?(?:\s*[:.)-].*)?\s*$/s.exec(v) : null;
  if (m === null) return { ok: false, reason: `the answer must be one letter A-E but is ${JSON.stringify(v)}` };
  const r: LetterParse = { ok: true, letter: m[1].toUpperCase() as Letter };
  if (evidence !== undefined) r.evidence = evidence;
  return r;
}

export type AnswerParse = { ok: true; answers: Record<string, Letter> } | { ok: false; reason: string };

/**
 * Strictly parse a judge reply: a JSON object {"answers": {"1": "A", ...}} (or the bare map), or
 * lines "1: A". Exactly one letter A-E per expected blank; missing, extra or invalid is an error.
 */
export function parseJudgeAnswers(text: string, blankIds: string[]): AnswerParse {
  const raw: Record<string, unknown> = {};
  const trimmed = text.trim().replace(/^```(?:json)?\s*/i, '').replace(/\s*```$/, '');
  const start = trimmed.indexOf('{');
  const end = trimmed.lastIndexOf('}');
  let parsedJson = false;
  if (start >= 0 && end > start) {
    try {
      const v: unknown = JSON.parse(trimmed.slice(start, end + 1));
      if (isRecord(v)) {
        const map = isRecord(v.answers) ? v.answers : v;
        for (const [k, val] of Object.entries(map)) raw[k.replace(/^\[?BLANK_/i, '').replace(/\]$/, '').trim()] = val;
        parsedJson = true;
      }
    } catch {
      parsedJson = false; // fall through to the line format below
    }
  }
  if (!parsedJson) {
    for (const line of trimmed.split('\n')) {
      const m = /^\s*\[?(?:BLANK_)?([A-Za-z0-9-]+)\]?\s*[:=.)-]\s*(.+?)\s*$/i.exec(line);
      if (m) {
        if (m[1] in raw) return { ok: false, reason: `blank ${m[1]} answered more than once` };
        raw[m[1]] = m[2];
      }
    }
    if (Object.keys(raw).length === 0) return { ok: false, reason: 'no answers found: reply with a JSON object {"answers": {"<blank>": "<A-E>"}}' };
  }
  const expected = new Set(blankIds);
  const extra = Object.keys(raw).filter((k) => !expected.has(k));
  if (extra.length > 0) return { ok: false, reason: `unexpected blank ids: ${extra.join(', ')}` };
  const missing = blankIds.filter((id) => !(id in raw));
  if (missing.length > 0) return { ok: false, reason: `missing answers for blanks: ${missing.join(', ')}` };
  const answers: Record<string, Letter> = {};
  for (const id of blankIds) {
    const v = raw[id];
    const s = typeof v === 'string' ? v.trim().replace(/^\(?([A-Ea-e])\)?\.?$/, '$1').toUpperCase() : v;
    if (!isLetter(s)) return { ok: false, reason: `blank ${id}: answer must be exactly one letter A-E but is ${JSON.stringify(v)}` };
    answers[id] = s;
  }
  return { ok: true, answers };
}

/** Seeded PRNG (mulberry32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a string (seeds per item). */
export function hashString(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/**
 * Permute options A-D of a blank (E stays E) deterministically from (seed, clip id, blank id).
 * `toOriginal[shownLetter]` maps a letter the judge saw back to the original letter.
 */
export function permuteBlank(blank: ClozeBlank, seed: number, clipId: string): { options: Record<Letter, string>; toOriginal: Record<Letter, Letter> } {
  const rnd = mulberry32(seed ^ hashString(`${clipId}\u0000${blank.id}`));
  const order: Letter[] = ['A', 'B', 'C', 'D'];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  const options = { E: blank.options.E } as Record<Letter, string>;
  const toOriginal = { E: 'E' } as Record<Letter, Letter>;
  (['A', 'B', 'C', 'D'] as const).forEach((shown, i) => {
    options[shown] = blank.options[order[i]];
    toOriginal[shown] = order[i];
  });
  return { options, toOriginal };
}
