/**
 * Human review of annotations (omnicap detect output): reading the lines for review (each bad line
 * reported with its number, never hiding the others), the claim-level provenance the Detective
 * records, and the reviews journal `<input>.reviews.jsonl`: one decision per line, appended and
 * fsynced; the latest decision per clip counts.
 */
import { readFile } from 'node:fs/promises';
import { OmnicapError } from '../errors';
import { isRecord } from '../util/guards';
import { DecisionJournal, latestDecisions, readJsonlRecords, type DecisionKind } from '../util/jsonl';
import type { ClaimProvenance, ProvenanceEvidence } from '../schema/annotation';

export const REVIEW_DECISIONS = ['accept', 'edit', 'reject'] as const;
export type ReviewDecisionKind = (typeof REVIEW_DECISIONS)[number];

/** One journal line. `caption` is the edited text (edit only); `before` the caption the reviewer saw. */
export interface ReviewDecision {
  clip: string;
  decision: ReviewDecisionKind;
  caption?: string;
  note?: string;
  reviewer: string;
  time: string;
  before: string;
}

/** A caption sentence and the observations that support it (`start`/`end`: character offsets in the caption). */
export type ProvenanceSentence = ClaimProvenance;
export type { ProvenanceEvidence };

export interface ReviewClip {
  /** The clip's key in the journal: its string id, else the JSON of its id or media path. */
  key: string;
  /** 1-based line number in the annotations file. */
  line: number;
  status: 'ok' | 'degraded' | 'error';
  degradedReasons: string[];
  /** Empty for an error line. */
  caption: string;
  /** The media path as the line gives it (relative to the media root or absolute), when any. */
  mediaPath?: string;
  hasVideo: boolean;
  /** The trajectory as written (rounds of the omnicap format, or the reference chat messages). */
  rounds: unknown[];
  provenance?: ProvenanceSentence[];
  /** Why a `provenance` field present in the line could not be used. */
  provenanceError?: string;
  error?: { code: string; message: string };
}

export interface LineError {
  line: number;
  message: string;
}

export interface AnnotationsForReview {
  clips: ReviewClip[];
  errors: LineError[];
}

const VIDEO_EXT = /\.(mp4|mkv|mov|webm|avi)$/i;

function nonEmpty(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** The journal key of an annotation line (shared by the review UI and `export --reviewed`). */
export function reviewKey(line: Record<string, unknown>): string | undefined {
  const id = line.id ?? (isRecord(line.input) ? line.input.id : undefined);
  if (typeof id === 'string' && id !== '') return id;
  if (typeof id === 'number' || (typeof id === 'object' && id !== null)) return JSON.stringify(id);
  const path = mediaPathOf(line);
  return path === undefined ? undefined : JSON.stringify(path);
}

function mediaPathOf(line: Record<string, unknown>): string | undefined {
  if (isRecord(line.media)) return nonEmpty(line.media.path);
  return [line.path, line.media, line.audio, line.video].map(nonEmpty).find((x) => x !== undefined);
}

function finite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** The `provenance` field checked against its contract and the caption (offsets in range). */
export function parseProvenance(raw: unknown, caption: string): ProvenanceSentence[] {
  if (!Array.isArray(raw)) throw new Error('provenance must be an array');
  return raw.map((s, i) => {
    const where = `provenance[${i}]`;
    if (!isRecord(s) || typeof s.sentence !== 'string' || typeof s.supported !== 'boolean' || !Array.isArray(s.evidence)) throw new Error(`${where} needs sentence, start, end, supported and evidence`);
    if (!Number.isInteger(s.start) || !Number.isInteger(s.end) || (s.start as number) < 0 || (s.end as number) < (s.start as number) || (s.end as number) > caption.length) {
      throw new Error(`${where}: offsets ${String(s.start)}-${String(s.end)} are outside the caption (${caption.length} characters)`);
    }
    const evidence = s.evidence.map((e, j): ProvenanceEvidence => {
      if (!isRecord(e) || !Number.isInteger(e.round) || typeof e.tool !== 'string') throw new Error(`${where}.evidence[${j}] needs round and tool`);
      const out: ProvenanceEvidence = { round: e.round as number, tool: e.tool };
      if (finite(e.start_seconds)) out.start_seconds = e.start_seconds;
      if (finite(e.end_seconds)) out.end_seconds = e.end_seconds;
      if (typeof e.text === 'string') out.text = e.text;
      return out;
    });
    return { sentence: s.sentence, start: s.start as number, end: s.end as number, supported: s.supported, evidence };
  });
}

function referenceCaption(trajectory: unknown[]): string | undefined {
  const last = trajectory[trajectory.length - 1];
  if (!isRecord(last) || last.role !== 'assistant' || typeof last.content !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(last.content);
    return typeof v === 'string' ? v : undefined;
  } catch {
    return last.content; // shown as written: the reviewer sees what the line holds
  }
}

const STATUSES: readonly string[] = ['ok', 'degraded', 'error'];

function isStatus(v: unknown): v is ReviewClip['status'] {
  return typeof v === 'string' && STATUSES.includes(v);
}

/** One parsed line as a clip, or throws with what is wrong. */
function clipOf(line: Record<string, unknown>, n: number): ReviewClip {
  const key = reviewKey(line);
  if (key === undefined) throw new Error('no "id" and no media path');
  const omnicap = isRecord(line.omnicap) ? line.omnicap : {};
  const rawStatus = line.status ?? omnicap.status ?? 'ok';
  if (!isStatus(rawStatus)) throw new Error(`unknown status ${JSON.stringify(rawStatus)}`);
  const rounds = Array.isArray(line.omni_detective_trajectory) ? line.omni_detective_trajectory : [];
  const caption = typeof line.caption === 'string' ? line.caption : referenceCaption(rounds);
  if (caption === undefined && rawStatus !== 'error') throw new Error('no "caption"');
  const reasons = line.degraded_reasons ?? omnicap.degraded_reasons;
  const mediaPath = mediaPathOf(line);
  const clip: ReviewClip = {
    key,
    line: n,
    status: rawStatus,
    degradedReasons: Array.isArray(reasons) ? reasons.filter((r): r is string => typeof r === 'string') : [],
    caption: caption ?? '',
    hasVideo: isRecord(line.media) && typeof line.media.has_video === 'boolean' ? line.media.has_video : VIDEO_EXT.test(mediaPath ?? ''),
    rounds,
  };
  if (mediaPath !== undefined) clip.mediaPath = mediaPath;
  if (isRecord(line.error)) clip.error = { code: String(line.error.code ?? 'ERROR'), message: String(line.error.message ?? '') };
  if (line.provenance !== undefined && line.provenance !== null) {
    try {
      clip.provenance = parseProvenance(line.provenance, clip.caption);
    } catch (e) {
      clip.provenanceError = e instanceof Error ? e.message : String(e);
    }
  }
  return clip;
}

/** Every clip of an annotations file and every line that could not be read (line number + error). */
export function parseAnnotationsForReview(text: string): AnnotationsForReview {
  const clips: ReviewClip[] = [];
  const errors: LineError[] = [];
  const seen = new Map<string, number>();
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    if (raw.trim() === '') return;
    try {
      let v: unknown;
      try {
        v = JSON.parse(raw);
      } catch (e) {
        throw new Error(`not valid JSON (${e instanceof Error ? e.message : String(e)})`);
      }
      if (!isRecord(v)) throw new Error('not a JSON object');
      const clip = clipOf(v, n);
      const first = seen.get(clip.key);
      if (first !== undefined) throw new Error(`clip ${clip.key} already appears on line ${first}`);
      seen.set(clip.key, n);
      clips.push(clip);
    } catch (e) {
      errors.push({ line: n, message: e instanceof Error ? e.message : String(e) });
    }
  });
  return { clips, errors };
}

export async function readAnnotationsForReview(file: string): Promise<AnnotationsForReview> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new OmnicapError('NOT_FOUND', `annotations file not found: ${file}`, { cause: e });
  }
  return parseAnnotationsForReview(text);
}

/** The reviews journal next to an annotations (or cloze) file. */
export function reviewsPath(input: string): string {
  return `${input}.reviews.jsonl`;
}

function isDecision(v: unknown): v is ReviewDecision {
  return isRecord(v) && typeof v.clip === 'string' && (REVIEW_DECISIONS as readonly unknown[]).includes(v.decision) && (v.decision !== 'edit' || typeof v.caption === 'string');
}

const REVIEW_KIND: DecisionKind<ReviewDecision> = { is: isDecision, key: (d) => d.clip };

/**
 * The latest decision per clip in a journal (empty when the file does not exist), read only: a
 * torn last line (a crash mid-append) and unparsable lines are not decisions.
 */
export async function latestReviewDecisions(journal: string): Promise<Map<string, ReviewDecision>> {
  return latestDecisions(await readJsonlRecords(journal), REVIEW_KIND);
}

/** Appends decisions to a journal (one whole line per write, fsynced) and keeps the latest per clip. */
export class ReviewJournal {
  private constructor(private readonly journal: DecisionJournal<ReviewDecision>) {}

  static async open(file: string): Promise<ReviewJournal> {
    return new ReviewJournal(await DecisionJournal.open(file, REVIEW_KIND));
  }

  get file(): string {
    return this.journal.file;
  }

  get latest(): Map<string, ReviewDecision> {
    return this.journal.latest;
  }

  /** Validates, appends and fsyncs one decision; INVALID_ARGUMENT for a reject without a note or an edit that changes nothing. */
  async record(d: Omit<ReviewDecision, 'time'> & { time?: string }): Promise<ReviewDecision> {
    if (d.decision === 'reject' && (d.note ?? '').trim() === '') throw new OmnicapError('INVALID_ARGUMENT', 'a rejection needs a note saying what is wrong');
    if (d.decision === 'edit') {
      if (d.caption === undefined || d.caption.trim() === '') throw new OmnicapError('INVALID_ARGUMENT', 'an edit needs the corrected caption');
      if (d.caption === d.before) throw new OmnicapError('INVALID_ARGUMENT', 'the caption is unchanged: accept it instead');
    }
    const rec: ReviewDecision = { clip: d.clip, decision: d.decision, reviewer: d.reviewer, time: d.time ?? new Date().toISOString(), before: d.before };
    if (d.decision === 'edit') rec.caption = d.caption;
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
