/**
 * Human verification of an Omni-Cloze set (`cloze build` output, or a set already in the released
 * layout): per blank a reviewer accepts, edits (answer and distractors) or rejects; decisions are
 * appended and fsynced to `<input>.reviews.jsonl`, the latest per blank counts. The verified set
 * keeps accepted and edited blanks only (a rejected or undecided blank is filled in with its
 * answer), renumbers them 1..n and is written in the released Omni-Cloze layout.
 */
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { OmnicapError } from '../errors';
import { isRecord } from '../util/guards';
import { DecisionJournal, latestDecisions, readJsonlRecords, type DecisionKind } from '../util/jsonl';
import { parseClip, parseJsonlLines } from './format';
import { releasedLine } from './released';
import { normalizeText } from './support';
import type { ClozeBlank, ClozeClip, ContentLetter } from './types';

export const BLANK_DECISIONS = ['accept', 'edit', 'reject'] as const;
export type BlankDecisionKind = (typeof BLANK_DECISIONS)[number];

export interface BlankContent {
  answer: string;
  distractors: string[];
}

/** One journal line: `answer`/`distractors` are the edited texts (edit only), `before` what the reviewer saw. */
export interface BlankDecision {
  clip: string;
  blank: string;
  decision: BlankDecisionKind;
  answer?: string;
  distractors?: string[];
  note?: string;
  reviewer: string;
  time: string;
  before: BlankContent;
}

export interface ClozeForVerify {
  clips: Array<ClozeClip & { line: number; referenceCaption?: string }>;
  errors: Array<{ line: number; message: string }>;
}

const CONTENT: readonly ContentLetter[] = ['A', 'B', 'C', 'D'];

/** The answer text and the three distractors (in option order) of a blank. */
export function blankContent(b: ClozeBlank): BlankContent {
  if (b.answer === 'E') return { answer: b.options.E, distractors: CONTENT.map((l) => b.options[l]) };
  return { answer: b.options[b.answer], distractors: CONTENT.filter((l) => l !== b.answer).map((l) => b.options[l]) };
}

export function blankKey(clip: string, blank: string): string {
  return JSON.stringify([clip, blank]);
}

/** Every clip of a cloze file (either layout) and every line that could not be read. */
export async function readClozeForVerify(file: string): Promise<ClozeForVerify> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new OmnicapError('NOT_FOUND', `cloze file not found: ${file}`, { cause: e });
  }
  const out: ClozeForVerify = { clips: [], errors: [] };
  for (const r of parseJsonlLines(text, (v) => ({ clip: parseClip(v), raw: v }))) {
    if (!r.ok) {
      out.errors.push({ line: r.line, message: r.error.message });
      continue;
    }
    const ref = isRecord(r.value.raw) ? r.value.raw.reference_caption : undefined;
    out.clips.push({ ...r.value.clip, line: r.line, ...(typeof ref === 'string' ? { referenceCaption: ref } : {}) });
  }
  return out;
}

function isBlankDecision(v: unknown): v is BlankDecision {
  return isRecord(v) && typeof v.clip === 'string' && typeof v.blank === 'string' && (BLANK_DECISIONS as readonly unknown[]).includes(v.decision)
    && (v.decision !== 'edit' || (typeof v.answer === 'string' && Array.isArray(v.distractors) && v.distractors.length === 3 && v.distractors.every((d) => typeof d === 'string')));
}

const BLANK_KIND: DecisionKind<BlankDecision> = { is: isBlankDecision, key: (d) => blankKey(d.clip, d.blank) };

/** The latest decision per blank (keyed by {@link blankKey}), read only. */
export async function latestBlankDecisions(journal: string): Promise<Map<string, BlankDecision>> {
  return latestDecisions(await readJsonlRecords(journal), BLANK_KIND);
}

/** An edit's texts checked: a non-empty answer and three distractors, all four distinct and none "not given". */
function checkEdit(answer: string | undefined, distractors: string[] | undefined, notGiven: string): BlankContent {
  const a = (answer ?? '').trim();
  const ds = (distractors ?? []).map((d) => d.trim());
  if (a === '' || ds.length !== 3 || ds.some((d) => d === '')) throw new OmnicapError('INVALID_ARGUMENT', 'an edit needs the answer and three distractors, none empty');
  const norm = [a, ...ds].map(normalizeText);
  if (new Set([...norm, normalizeText(notGiven)]).size !== 5) throw new OmnicapError('INVALID_ARGUMENT', `the answer and the distractors must be four different texts, none "${notGiven}"`);
  return { answer: a, distractors: ds };
}

export class ClozeVerifyJournal {
  private constructor(private readonly journal: DecisionJournal<BlankDecision>) {}

  static async open(file: string): Promise<ClozeVerifyJournal> {
    return new ClozeVerifyJournal(await DecisionJournal.open(file, BLANK_KIND));
  }

  get file(): string {
    return this.journal.file;
  }

  get latest(): Map<string, BlankDecision> {
    return this.journal.latest;
  }

  /** Validates, appends and fsyncs one blank decision. */
  async record(blank: ClozeBlank, d: Omit<BlankDecision, 'time' | 'before' | 'blank'> & { time?: string }): Promise<BlankDecision> {
    if (d.decision === 'reject' && (d.note ?? '').trim() === '') throw new OmnicapError('INVALID_ARGUMENT', 'a rejection needs a note saying what is wrong');
    const before = blankContent(blank);
    const rec: BlankDecision = { clip: d.clip, blank: blank.id, decision: d.decision, reviewer: d.reviewer, time: d.time ?? new Date().toISOString(), before };
    if (d.decision === 'edit') {
      const edited = checkEdit(d.answer, d.distractors, blank.options.E);
      if (edited.answer === before.answer && edited.distractors.every((x, i) => x === before.distractors[i])) throw new OmnicapError('INVALID_ARGUMENT', 'nothing was changed: accept the blank instead');
      rec.answer = edited.answer;
      rec.distractors = edited.distractors;
    }
    if (d.note !== undefined && d.note.trim() !== '') rec.note = d.note.trim();
    return this.journal.append(rec);
  }

  async dispose(): Promise<void> {
    await this.journal.dispose();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.dispose();
  }
}

/** The blank with an edit applied: the answer keeps its letter, the distractors fill the other A-D letters in order. */
function edited(b: ClozeBlank, d: BlankDecision): ClozeBlank {
  if (d.decision !== 'edit' || d.answer === undefined || d.distractors === undefined) return b;
  const key: ContentLetter = b.answer === 'E' ? 'A' : b.answer;
  const options = { ...b.options, [key]: d.answer };
  CONTENT.filter((l) => l !== key).forEach((l, i) => (options[l] = d.distractors![i]));
  return { ...b, options, answer: key };
}

/**
 * The verified clip: accepted and edited blanks only, renumbered 1..n; the others are filled in
 * with their answer text. Undefined when no blank is kept.
 */
export function verifiedClip(clip: ClozeClip, decisions: ReadonlyMap<string, BlankDecision>): ClozeClip | undefined {
  const kept = new Map<string, ClozeBlank>();
  for (const b of clip.blanks) {
    const d = decisions.get(blankKey(clip.id, b.id));
    if (d !== undefined && d.decision !== 'reject') kept.set(b.id, { ...edited(b, d), id: String(kept.size + 1) });
  }
  if (kept.size === 0) return undefined;
  const byId = new Map(clip.blanks.map((b) => [b.id, b]));
  const passage = clip.passage.replace(/\[BLANK_([A-Za-z0-9-]+)\]/g, (m, id: string) => {
    const k = kept.get(id);
    if (k !== undefined) return `[BLANK_${k.id}]`;
    const b = byId.get(id);
    return b === undefined ? m : blankContent(b).answer;
  });
  return { id: clip.id, domain: clip.domain, category: clip.category, passage, blanks: [...kept.values()] };
}

export interface VerifiedSummary {
  output: string;
  clips: number;
  blanks: number;
  rejected: number;
  undecided: number;
}

/** Writes the verified set of `input` (decisions from `<input>.reviews.jsonl` or `journal`) to `output` in the released layout, atomically. */
export async function writeVerifiedCloze(input: string, output: string, journal = `${input}.reviews.jsonl`): Promise<VerifiedSummary> {
  const { clips } = await readClozeForVerify(input);
  const decisions = await latestBlankDecisions(journal);
  const summary: VerifiedSummary = { output, clips: 0, blanks: 0, rejected: 0, undecided: 0 };
  const lines: string[] = [];
  for (const c of clips) {
    for (const b of c.blanks) {
      const d = decisions.get(blankKey(c.id, b.id));
      if (d === undefined) summary.undecided++;
      else if (d.decision === 'reject') summary.rejected++;
    }
    const v = verifiedClip(c, decisions);
    if (v === undefined) continue;
    lines.push(JSON.stringify(releasedLine(v, c.referenceCaption !== undefined ? { reference_caption: c.referenceCaption } : {})));
    summary.clips++;
    summary.blanks += v.blanks.length;
  }
  await mkdir(dirname(output), { recursive: true });
  const tmp = `${output}.${process.pid}.tmp`;
  await writeFile(tmp, lines.length > 0 ? `${lines.join('\n')}\n` : '');
  await rename(tmp, output);
  return summary;
}
