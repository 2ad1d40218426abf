/** `cloze build`: make an Omni-Cloze benchmark from reference captions with an LLM plus code-side quality gates. */
import { OmnicapError, toOmnicapError } from '../errors';
import type { ChatModel } from '../llm/types';
import { throwIfAborted } from '../util/abort';
import { LETTERS, normalizeModality, type ClozeBlank, type ClozeClip, type Letter, type Modality } from './types';
import { judgeClip } from './judge';
import { isRecord } from '../util/guards';
import { sha256 } from '../util/hash';
import { JsonlAppender, prepareResume, readInputText } from '../util/jsonl';
import { DEFAULT_PROMPT_VERSION, blankSentence, loadClozePrompt, loadJudgePrompt, mulberry32, type JudgeTemplates } from './prompt';
import { normalizeText } from './support';

export const BUILD_GATES = ['bad_llm_output', 'answer_not_in_caption', 'overlapping_span', 'duplicate_options', 'not_four_distinct', 'answerable_without_caption', 'passage_unreadable', 'baseline_judge_failed', 'no_blanks_left'] as const;
export type BuildGate = (typeof BUILD_GATES)[number];

export interface ClozeBuildOptions {
  input: string;
  output: string;
  llm: ChatModel;
  /** Judge for the no-caption gate (defaults to `llm`). */
  judge?: ChatModel;
  maxBlanks?: number;
  seed?: number;
  notGivenText?: string;
  promptVersion?: string;
  promptsDir?: string;
  signal?: AbortSignal;
}

export interface ClozeBuildSummary {
  references: number;
  built: number;
  skipped: number;
  blanksKept: number;
  /** Blank-level drops per gate (clip-level gates count clips). */
  drops: Record<BuildGate, number>;
  inputErrors: Array<{ line: number; message: string }>;
}

/** Lowercase, strip punctuation and collapse spaces: the normalised form used by the gates. */

function jsonObject(text: string): Record<string, unknown> | undefined {
  const a = text.indexOf('{');
  const b = text.lastIndexOf('}');
  if (a < 0 || b <= a) return undefined;
  try {
    const v: unknown = JSON.parse(text.slice(a, b + 1));
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined; // reported by the caller as bad_llm_output
  }
}

interface Candidate { span: string; start: number; category: string; modality: Modality }

/** Locate a span in the caption (case-insensitive, whitespace-tolerant); -1 when absent. */
function findSpan(caption: string, span: string): { start: number; text: string } | undefined {
  const pattern = span.trim().split(/\s+/).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('\\s+');
  if (pattern === '') return undefined;
  const m = new RegExp(`(?<![\\p{L}\\p{N}])${pattern}(?![\\p{L}\\p{N}])`, 'iu').exec(caption);
  return m ? { start: m.index, text: m[0] } : undefined;
}

function renderPassage(caption: string, cands: Array<Candidate & { text: string }>, ids: string[]): string {
  let out = '';
  let pos = 0;
  cands.forEach((c, i) => {
    out += caption.slice(pos, c.start) + `[BLANK_${ids[i]}]`;
    pos = c.start + c.text.length;
  });
  return out + caption.slice(pos);
}

/** Readability gate: at least two non-blank words per blank and no two blanks adjacent. */
export function passageReads(passage: string): boolean {
  const words = passage.split(/\s+/).filter((w) => w !== '');
  const blanks = words.filter((w) => /\[BLANK_/.test(w)).length;
  return blanks > 0 && words.length - blanks >= 2 * blanks && !/\[BLANK_[^\]]+\]\W{0,2}\[BLANK_/.test(passage);
}

export async function runClozeBuild(o: ClozeBuildOptions): Promise<ClozeBuildSummary> {
  const version = o.promptVersion ?? DEFAULT_PROMPT_VERSION;
  const blanksPrompt = loadClozePrompt('build-blanks', version, o.promptsDir);
  const distractorPrompt = loadClozePrompt('build-distractors', version, o.promptsDir);
  const judgeTemplate = loadJudgePrompt(version, o.promptsDir);
  const maxBlanks = o.maxBlanks ?? 8;
  const notGiven = o.notGivenText ?? 'not given';
  const drops = Object.fromEntries(BUILD_GATES.map((g) => [g, 0])) as Record<BuildGate, number>;
  const inputErrors: ClozeBuildSummary['inputErrors'] = [];
  const refs: Array<{ id: string; caption: string; domain: string; category: string }> = [];
  (await readInputText(o.input, 'input')).split('\n').forEach((l, i) => {
    if (l.trim() === '') return;
    try {
      const v = JSON.parse(l) as Record<string, unknown>;
      const caption = v.caption ?? v.reference_caption;
      if (typeof v.id !== 'string' || typeof caption !== 'string' || caption.trim() === '') throw new Error('needs string "id" and "caption"');
      refs.push({ id: v.id, caption, domain: typeof v.domain === 'string' ? v.domain : 'unknown', category: typeof v.category === 'string' ? v.category : 'unknown' });
    } catch (e) {
      inputErrors.push({ line: i + 1, message: `line ${i + 1}: ${e instanceof Error ? e.message : String(e)}` });
    }
  });
  const resume = await prepareResume(o.output);
  const done = new Set(resume.lines.map((l) => (l as { id?: unknown }).id).filter((x): x is string => typeof x === 'string'));
  const out = await JsonlAppender.open(o.output);
  let built = 0;
  let blanksKept = 0;
  try {
    for (const ref of refs) {
      throwIfAborted(o.signal);
      if (done.has(ref.id)) continue;
      const clip = await buildOne(ref, { ...o, blanksPrompt, distractorPrompt, judgeTemplate, version, maxBlanks, notGiven, drops });
      if (clip === undefined) continue;
      await out.append({ id: clip.id, domain: clip.domain, category: clip.category, passage: clip.passage, blanks: clip.blanks, reference_caption: ref.caption });
      built++;
      blanksKept += clip.blanks.length;
    }
  } finally {
    await out.dispose();
  }
  return { references: refs.length, built, skipped: refs.filter((r) => done.has(r.id)).length, blanksKept, drops, inputErrors };
}

interface Ctx extends ClozeBuildOptions { blanksPrompt: string; distractorPrompt: string; judgeTemplate: JudgeTemplates; version: string; maxBlanks: number; notGiven: string; drops: Record<BuildGate, number> }

/** Grammar of the span proposal: spans with a category and one of the three modalities. */
export function blanksSchema(max: number): object {
  return {
    type: 'object',
    properties: {
      blanks: {
        type: 'array',
        maxItems: max,
        items: { type: 'object', properties: { span: { type: 'string' }, category: { type: 'string' }, modality: { type: 'string', enum: ['audio', 'visual', 'audio-visual'] } }, required: ['span', 'category', 'modality'], additionalProperties: false },
      },
    },
    required: ['blanks'],
    additionalProperties: false,
  };
}

export const DISTRACTORS_SCHEMA = {
  type: 'object',
  properties: { distractors: { type: 'array', items: { type: 'string' }, minItems: 3, maxItems: 3 } },
  required: ['distractors'],
  additionalProperties: false,
} as const;

async function ask(llm: ChatModel, prompt: string, signal: AbortSignal | undefined, seed: number | undefined, jsonSchema: object): Promise<Record<string, unknown> | undefined> {
  try {
    return jsonObject((await llm.chat([{ role: 'user', content: prompt }], { json: true, jsonSchema, temperature: 0, seed, maxTokens: 512, signal })).text);
  } catch (e) {
    const err = toOmnicapError(e, 'UPSTREAM_ERROR');
    if (err.code === 'ABORTED') throw err;
    throw new OmnicapError('UPSTREAM_ERROR', `build LLM call failed: ${err.message}`, { cause: e });
  }
}

async function buildOne(ref: { id: string; caption: string; domain: string; category: string }, c: Ctx): Promise<ClozeClip | undefined> {
  const proposal = await ask(c.llm, c.blanksPrompt.replace('{{max}}', String(c.maxBlanks)).replace('{{caption}}', () => ref.caption), c.signal, c.seed, blanksSchema(c.maxBlanks));
  if (proposal === undefined || !Array.isArray(proposal.blanks)) {
    c.drops.bad_llm_output++;
    return undefined;
  }
  const cands: Array<Candidate & { text: string }> = [];
  for (const raw of proposal.blanks.slice(0, c.maxBlanks)) {
    const r = (raw ?? {}) as Record<string, unknown>;
    const modality = normalizeModality(r.modality);
    if (typeof r.span !== 'string' || modality === undefined) { c.drops.bad_llm_output++; continue; }
    const found = findSpan(ref.caption, r.span);
    if (found === undefined) { c.drops.answer_not_in_caption++; continue; }
    if (cands.some((x) => found.start < x.start + x.text.length && x.start < found.start + found.text.length)) { c.drops.overlapping_span++; continue; }
    cands.push({ span: r.span, start: found.start, text: found.text, category: typeof r.category === 'string' ? r.category : 'unknown', modality });
  }
  cands.sort((a, b) => a.start - b.start);
  if (cands.length === 0) { c.drops.no_blanks_left++; return undefined; }
  const tmpIds = cands.map((_, i) => String(i + 1));
  const passage0 = renderPassage(ref.caption, cands, tmpIds);
  // distractors one blank at a time, from the blank's own sentence
  const dmap: Record<string, unknown> = {};
  for (let i = 0; i < cands.length; i++) {
    const prompt = c.distractorPrompt.replace('{{sentence}}', () => blankSentence(passage0, tmpIds[i])).replace('{{answer}}', () => cands[i].text);
    const dist = await ask(c.llm, prompt, c.signal, c.seed, DISTRACTORS_SCHEMA);
    if (dist !== undefined) dmap[tmpIds[i]] = dist.distractors;
  }
  const rnd = mulberry32((c.seed ?? 0) ^ parseInt(sha256(ref.id).slice(0, 8), 16));
  let kept: Array<{ cand: Candidate & { text: string }; blank: ClozeBlank }> = [];
  cands.forEach((cand, i) => {
    const d = dmap[tmpIds[i]];
    if (!Array.isArray(d) || !d.every((x) => typeof x === 'string' && x.trim() !== '')) { c.drops.bad_llm_output++; return; }
    const contents = [cand.text, ...(d as string[]).map((x) => x.trim())];
    const norm = contents.map(normalizeText);
    if (new Set([...norm, normalizeText(c.notGiven)]).size !== norm.length + 1) { c.drops.duplicate_options++; return; }
    if (contents.length !== 4) { c.drops.not_four_distinct++; return; }
    const order = [0, 1, 2, 3];
    for (let k = 3; k > 0; k--) { const j = Math.floor(rnd() * (k + 1)); [order[k], order[j]] = [order[j], order[k]]; }
    const options = { E: c.notGiven } as Record<Letter, string>;
    let answer: Letter = 'A';
    order.forEach((src, pos) => { options[LETTERS[pos]] = contents[src]; if (src === 0) answer = LETTERS[pos]; });
    kept.push({ cand, blank: { id: tmpIds[i], options, answer, modality: cand.modality, category: cand.category } });
  });
  if (kept.length > 0) {
    const probe: ClozeClip = { id: ref.id, domain: ref.domain, category: ref.category, passage: renderPassage(ref.caption, kept.map((k) => k.cand), kept.map((k) => k.blank.id)), blanks: kept.map((k) => k.blank) };
    // raw letters, no evidence grounding: a blank the judge answers right from the passage alone leaks
    const base = await judgeClip(probe, { judge: c.judge ?? c.llm, template: c.judgeTemplate, promptVersion: c.version, variant: 'baseline', grounding: false, signal: c.signal });
    if (base.status === 'failed') { c.drops.baseline_judge_failed++; return undefined; }
    const leaked = new Set(base.blanks.filter((b) => b.predicted === b.answer).map((b) => b.id));
    c.drops.answerable_without_caption += leaked.size;
    kept = kept.filter((k) => !leaked.has(k.blank.id));
  }
  const ids = kept.map((_, i) => String(i + 1));
  const passage = renderPassage(ref.caption, kept.map((k) => k.cand), ids);
  if (kept.length === 0) { c.drops.no_blanks_left++; return undefined; }
  if (!passageReads(passage)) { c.drops.passage_unreadable++; return undefined; }
  return { id: ref.id, domain: ref.domain, category: ref.category, passage, blanks: kept.map((k, i) => ({ ...k.blank, id: ids[i] })) };
}
