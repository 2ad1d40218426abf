/**
 * Omni-Cloze JSONL format (see docs/cloze.md): one clip per line. Parsing is tolerant of
 * reasonable variants (option arrays, `sub_category`, numeric blank ids, modality spellings) but
 * strict on what matters (5 options, answer letter, every blank present in the passage).
 */
import { OmnicapError, quoteValue } from '../errors';
import { isReleasedLayout, parseReleasedClip } from './released';
import { LETTERS, isLetter, normalizeModality, passageBlankIds, type ClozeBlank, type ClozeClip, type Letter } from './types';

export type { LineResult } from '../util/jsonl';

const bad = (msg: string, details: Record<string, unknown> = {}): OmnicapError => new OmnicapError('INVALID_ARGUMENT', msg, { details });

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function parseOptions(raw: unknown, where: string): Record<Letter, string> {
  let entries: Array<[string, unknown]>;
  if (Array.isArray(raw)) {
    if (raw.length !== 5) throw bad(`${where}: options must have 5 entries (A-E) but has ${raw.length}`);
    entries = raw.map((v, i) => [LETTERS[i], v]);
  } else if (typeof raw === 'object' && raw !== null) {
    entries = Object.entries(raw as Record<string, unknown>).map(([k, v]) => [k.trim().toUpperCase(), v]);
  } else {
    throw bad(`${where}: options must be an object {A,B,C,D,E} or an array of 5 strings`);
  }
  const out: Partial<Record<Letter, string>> = {};
  for (const [k, v] of entries) {
    if (!isLetter(k)) throw bad(`${where}: unknown option letter ${JSON.stringify(k)} (expected A-E)`, { letter: k });
    const text = str(v);
    if (text === undefined) throw bad(`${where}: option ${k} must be a non-empty string`);
    out[k] = text;
  }
  for (const l of LETTERS) if (out[l] === undefined) throw bad(`${where}: option ${l} is missing`);
  return out as Record<Letter, string>;
}

function parseBlank(raw: unknown, index: number, clipId: string): ClozeBlank {
  const where = `clip ${clipId} blank #${index + 1}`;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad(`${where}: must be an object`);
  const b = raw as Record<string, unknown>;
  const id = str(b.id ?? b.blank_id ?? b.index);
  if (id === undefined) throw bad(`${where}: missing id`);
  const w = `clip ${clipId} blank ${id}`;
  const options = parseOptions(b.options ?? b.choices, w);
  const ansRaw = typeof b.answer === 'string' ? b.answer.trim().toUpperCase() : b.answer;
  if (!isLetter(ansRaw)) throw bad(`${w}: answer must be one of A-E but is ${quoteValue(b.answer)}`, { answer: b.answer });
  const modality = normalizeModality(b.modality ?? b.modality_type);
  if (modality === undefined) throw bad(`${w}: modality must be audio, visual or audio-visual but is ${quoteValue(b.modality)}`);
  const blank: ClozeBlank = { id, options, answer: ansRaw, modality };
  const cat = str(b.category ?? b.sub_category ?? b.subcategory);
  if (cat !== undefined) blank.category = cat;
  return blank;
}

/**
 * Validate one parsed JSON value as a clip: this project's layout, or the released Omni-Cloze
 * layout (`uuid`, `cloze: {passage, blanks}`; see ./released). `captionField` is read when present.
 */
export function parseClip(raw: unknown, captionField = 'predicted_caption'): ClozeClip {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw bad('clip must be a JSON object');
  const o = raw as Record<string, unknown>;
  if (isReleasedLayout(o)) return parseReleasedClip(o, captionField);
  const id = str(o.id ?? o.clip_id ?? o.video_id);
  if (id === undefined) throw bad('clip is missing "id"');
  const domain = str(o.domain);
  if (domain === undefined) throw bad(`clip ${id}: missing "domain"`);
  const category = str(o.category ?? o.sub_category ?? o.subcategory) ?? 'unknown';
  const passage = typeof o.passage === 'string' ? o.passage : typeof o.cloze_passage === 'string' ? o.cloze_passage : undefined;
  if (passage === undefined || passage.trim() === '') throw bad(`clip ${id}: missing "passage"`);
  if (!Array.isArray(o.blanks) || o.blanks.length === 0) throw bad(`clip ${id}: "blanks" must be a non-empty array`);
  const blanks = o.blanks.map((b, i) => parseBlank(b, i, id));
  const seen = new Set<string>();
  for (const b of blanks) {
    if (seen.has(b.id)) throw bad(`clip ${id}: duplicate blank id ${b.id}`);
    seen.add(b.id);
  }
  const inPassage = new Set(passageBlankIds(passage));
  for (const b of blanks) if (!inPassage.has(b.id)) throw bad(`clip ${id}: blank ${b.id} has no [BLANK_${b.id}] in the passage`);
  for (const p of inPassage) if (!seen.has(p)) throw bad(`clip ${id}: passage has [BLANK_${p}] but no such blank`);
  const clip: ClozeClip = { id, domain, category, passage, blanks };
  const cap = o[captionField];
  if (cap !== undefined && cap !== null) {
    if (typeof cap !== 'string') throw bad(`clip ${id}: "${captionField}" must be a string`);
    clip.caption = cap;
  }
  return clip;
}

export { parseJsonlLines } from '../util/jsonl';
