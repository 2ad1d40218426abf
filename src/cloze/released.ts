/**
 * The released Omni-Cloze layout (omni_cloze.jsonl of the HF dataset BoJack/Omni-Cloze, as the
 * public VLMEvalKit port reads it) and the port's judged rows:
 *
 *   {"uuid": 1, "video_path": "./videos/0000001.mp4", "predicted_caption": "...",
 *    "metadata": {"category": "...", "subcategory": "..."},
 *    "cloze": {"passage": "...", "blanks": [{"answer": "female", "answer_key": "A",
 *              "distractors": ["male", "child", "robot"], "answer_index": 0,
 *              "required_modality": "audio", "options": ...}]}}
 *
 * A port judged row adds `cloze_prediction` {"1": "A: female", ...}: keys are blank positions
 * (1-based), values a letter optionally followed by ": text". Blank answers of the released
 * layout are texts; `answer_key` is the letter.
 */
import { OmnicapError, quoteValue } from '../errors';
import { isRecord } from '../util/guards';
import { LETTERS, isLetter, normalizeModality, passageBlankIds, type ClozeBlank, type ClozeClip, type JudgedBlank, type Letter, type Modality } from './types';

const bad = (msg: string, details: Record<string, unknown> = {}): OmnicapError => new OmnicapError('INVALID_ARGUMENT', msg, { details });

function str(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

/**
 * The letter of a judge answer: "A", "a", "(A)", "A.", "A: female", "A - female", "A) female".
 * Undefined when the value does not start with exactly one option letter.
 */
export function answerLetter(v: unknown): Letter | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^\s*\(?([A-Ea-e])\)?\s*(?:$|[:.)\-–]\s*|\s+(?=\S))/.exec(v);
  if (m === null) return undefined;
  const l = m[1].toUpperCase();
  return isLetter(l) ? l : undefined;
}

/** True for a line in the released layout (a `cloze` object with the passage and blanks). */
export function isReleasedLayout(o: Record<string, unknown>): boolean {
  return isRecord(o.cloze);
}

/** `cloze` may also be a JSON string (the port's TSV round trip). */
function clozeObject(v: unknown, where: string): Record<string, unknown> {
  if (isRecord(v)) return v;
  if (typeof v === 'string') {
    try {
      const parsed: unknown = JSON.parse(v);
      if (isRecord(parsed)) return parsed;
    } catch {
      // reported below
    }
  }
  throw bad(`${where}: "cloze" must be an object {passage, blanks}`);
}

function metadataOf(o: Record<string, unknown>): Record<string, unknown> {
  if (isRecord(o.metadata)) return o.metadata;
  if (typeof o.metadata === 'string') {
    try {
      const m: unknown = JSON.parse(o.metadata);
      if (isRecord(m)) return m;
    } catch {
      return {}; // metadata is optional provenance: an unparsable string is treated as absent
    }
  }
  return {};
}

function clipIdOf(o: Record<string, unknown>): string | undefined {
  return str(o.uuid ?? o.id ?? o.index);
}

/** Option texts A-E of a released blank: `options`/`choices` when given, else distractors + answer at answer_index. */
function releasedOptions(b: Record<string, unknown>, key: Letter, answer: string | undefined, where: string): Record<Letter, string> {
  const given: unknown = b.options ?? b.choices;
  let options: Partial<Record<Letter, string>> = {};
  if (Array.isArray(given) || isRecord(given)) {
    const entries: Array<[string, unknown]> = Array.isArray(given) ? given.map((v, i) => [LETTERS[i] ?? `#${i}`, v]) : Object.entries(given).map(([k, v]) => [k.trim().toUpperCase(), v]);
    for (const [k, v] of entries) {
      if (!isLetter(k)) throw bad(`${where}: unknown option letter ${JSON.stringify(k)}`);
      const text = str(typeof v === 'string' ? v.replace(/^\s*[A-Ea-e]\s*[:.)]\s*/, '') : v);
      if (text === undefined) throw bad(`${where}: option ${k} must be a non-empty string`);
      options[k] = text;
    }
  } else {
    if (!Array.isArray(b.distractors) || b.distractors.length !== 3) throw bad(`${where}: needs "options" or 3 "distractors"`);
    if (answer === undefined) throw bad(`${where}: needs the answer text to place among the distractors`);
    const texts = b.distractors.map((d) => str(d));
    if (texts.some((t) => t === undefined)) throw bad(`${where}: distractors must be non-empty strings`);
    const content = [...(texts as string[])];
    content.splice(LETTERS.indexOf(key), 0, answer);
    options = { A: content[0], B: content[1], C: content[2], D: content[3] };
  }
  options.E ??= 'not given';
  for (const l of LETTERS) if (options[l] === undefined) throw bad(`${where}: option ${l} is missing`);
  return options as Record<Letter, string>;
}

function releasedBlank(raw: unknown, index: number, clipId: string): ClozeBlank {
  const where = `clip ${clipId} blank #${index + 1}`;
  if (!isRecord(raw)) throw bad(`${where}: must be an object`);
  const key = typeof raw.answer_key === 'string' ? raw.answer_key.trim().toUpperCase() : undefined;
  if (!isLetter(key) || key === 'E') throw bad(`${where}: answer_key must be one of A-D but is ${quoteValue(raw.answer_key)}`, { answer_key: raw.answer_key });
  const answer = str(raw.answer);
  if (raw.answer_index !== undefined && raw.answer_index !== null) {
    const ai = raw.answer_index;
    if (typeof ai !== 'number' || !Number.isInteger(ai) || LETTERS[ai] !== key) throw bad(`${where}: answer_index ${quoteValue(ai)} does not point at answer_key ${key} (0-based)`);
  }
  const options = releasedOptions(raw, key, answer, where);
  if (answer !== undefined && options[key].toLowerCase() !== answer.toLowerCase()) throw bad(`${where}: option ${key} is ${JSON.stringify(options[key])} but the answer is ${JSON.stringify(answer)}`);
  const modality = normalizeModality(raw.required_modality ?? raw.modality);
  if (modality === undefined) throw bad(`${where}: required_modality must be audio, visual or audio-visual but is ${quoteValue(raw.required_modality)}`);
  const blank: ClozeBlank = { id: str(raw.id ?? raw.blank_id) ?? String(index + 1), options, answer: key, modality };
  const cat = str(raw.category ?? raw.subcategory ?? raw.sub_category);
  if (cat !== undefined) blank.category = cat;
  return blank;
}

/** A released-layout line as a clip. Blank ids are the blanks' `id` or their 1-based position. */
export function parseReleasedClip(o: Record<string, unknown>, captionField = 'predicted_caption'): ClozeClip {
  const id = clipIdOf(o);
  if (id === undefined) throw bad('clip is missing "uuid"');
  const cloze = clozeObject(o.cloze, `clip ${id}`);
  const passage = typeof cloze.passage === 'string' ? cloze.passage : undefined;
  if (passage === undefined || passage.trim() === '') throw bad(`clip ${id}: missing "cloze.passage"`);
  if (!Array.isArray(cloze.blanks) || cloze.blanks.length === 0) throw bad(`clip ${id}: "cloze.blanks" must be a non-empty array`);
  const blanks = cloze.blanks.map((b, i) => releasedBlank(b, i, id));
  const ids = new Set(blanks.map((b) => b.id));
  if (ids.size !== blanks.length) throw bad(`clip ${id}: duplicate blank ids`);
  // [BLANK_n] markers, when the passage uses them, must match the blanks one to one
  const markers = passageBlankIds(passage);
  if (markers.length > 0) {
    for (const b of blanks) if (!markers.includes(b.id)) throw bad(`clip ${id}: blank ${b.id} has no [BLANK_${b.id}] in the passage`);
    for (const m of markers) if (!ids.has(m)) throw bad(`clip ${id}: passage has [BLANK_${m}] but no such blank`);
  }
  const meta = metadataOf(o);
  const clip: ClozeClip = {
    id,
    domain: str(meta.category ?? meta.domain ?? o.domain) ?? 'unknown',
    category: str(meta.subcategory ?? meta.sub_category ?? o.subcategory) ?? 'unknown',
    passage,
    blanks,
  };
  const cap = o[captionField];
  if (cap !== undefined && cap !== null) {
    if (typeof cap !== 'string') throw bad(`clip ${id}: "${captionField}" must be a string`);
    clip.caption = cap;
  }
  return clip;
}

/** True for a judged row of the VLMEvalKit port (`cloze` + `cloze_prediction`). */
export function isPortJudgedRow(o: Record<string, unknown>): boolean {
  return o.cloze !== undefined && o.cloze_prediction !== undefined;
}

export interface PortJudged {
  id: string;
  domain: string;
  category: string;
  blanks: JudgedBlank[];
}

/**
 * A port judged row, scored as the port scores it: blank i (1-based) is judged by
 * cloze_prediction["i"]; a blank without a prediction is not counted; the letter before ':' is the choice.
 */
export function parsePortJudgedRow(o: Record<string, unknown>): PortJudged {
  const id = clipIdOf(o);
  if (id === undefined) throw bad('judged row is missing "uuid"');
  const cloze = clozeObject(o.cloze, `clip ${id}`);
  if (!Array.isArray(cloze.blanks) || cloze.blanks.length === 0) throw bad(`clip ${id}: "cloze.blanks" must be a non-empty array`);
  const pred = typeof o.cloze_prediction === 'string' ? clozeObject(o.cloze_prediction, `clip ${id} cloze_prediction`) : o.cloze_prediction;
  if (!isRecord(pred)) throw bad(`clip ${id}: "cloze_prediction" must be an object {"1": "A: ...", ...}`);
  const blanks: JudgedBlank[] = [];
  cloze.blanks.forEach((raw: unknown, i) => {
    const b = isRecord(raw) ? raw : {};
    const rawPred = pred[String(i + 1)];
    if (rawPred === undefined || rawPred === null || rawPred === '') return;
    const predicted = answerLetter(rawPred);
    if (predicted === undefined) throw bad(`clip ${id} blank ${i + 1}: prediction ${quoteValue(rawPred)} does not start with a letter A-E`);
    const answer = typeof b.answer_key === 'string' ? b.answer_key.trim().toUpperCase() : undefined;
    if (!isLetter(answer)) throw bad(`clip ${id} blank ${i + 1}: answer_key must be a letter A-E but is ${quoteValue(b.answer_key)}`);
    const modality: Modality | undefined = normalizeModality(b.required_modality ?? b.modality);
    if (modality === undefined) throw bad(`clip ${id} blank ${i + 1}: required_modality must be audio, visual or audio-visual but is ${quoteValue(b.required_modality)}`);
    blanks.push({ id: str(b.id) ?? String(i + 1), answer, predicted, modality });
  });
  if (blanks.length === 0) throw bad(`clip ${id}: no blank has a prediction`);
  const meta = metadataOf(o);
  return { id, domain: str(meta.category ?? meta.domain ?? o.domain) ?? 'unknown', category: str(meta.subcategory ?? meta.sub_category) ?? 'unknown', blanks };
}

/**
 * A clip as a line of the released layout (the inverse of {@link parseReleasedClip}): `uuid`,
 * `metadata` {category: domain, subcategory: category} and `cloze` {passage, blanks}, each blank
 * with its answer text, `answer_key`, the three distractors in option order, the 0-based
 * `answer_index` and `required_modality`; `options` only when option E is not "not given".
 * `extra` fields (e.g. `video_path`, `reference_caption`) are written first.
 */
export function releasedLine(clip: ClozeClip, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const blanks = clip.blanks.map((b) => {
    if (b.answer === 'E') throw bad(`clip ${clip.id} blank ${b.id}: the released layout has no blank answered by option E`);
    const out: Record<string, unknown> = {
      id: b.id,
      answer: b.options[b.answer],
      answer_key: b.answer,
      distractors: (['A', 'B', 'C', 'D'] as const).filter((l) => l !== b.answer).map((l) => b.options[l]),
      answer_index: LETTERS.indexOf(b.answer),
      required_modality: b.modality,
    };
    if (b.category !== undefined) out.category = b.category;
    if (b.options.E !== 'not given') out.options = { ...b.options };
    return out;
  });
  return { ...extra, uuid: clip.id, metadata: { category: clip.domain, subcategory: clip.category }, cloze: { passage: clip.passage, blanks } };
}
