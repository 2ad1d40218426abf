/** Scoring of judged Omni-Cloze files: accuracy, omission, hallucination, net score, bootstrap CIs, robustness. */
import { OmnicapError } from '../errors';
import { isLetter, normalizeModality, type JudgedBlank, type Letter } from './types';
import { bootstrapIntervals, type Interval } from './bootstrap';
import { isPortJudgedRow, parsePortJudgedRow } from './released';

export type { Interval };

export interface OkClip {
  id: string;
  domain: string;
  category: string;
  variant: string;
  judgeModel: string;
  blanks: JudgedBlank[];
}
export type ParsedJudged = { status: 'ok'; clip: OkClip } | { status: 'failed'; id: string; reason: string; variant: string };

const variantOf = (r: ParsedJudged): string => (r.status === 'ok' ? r.clip.variant : r.variant);
const idOf = (r: ParsedJudged): string => (r.status === 'ok' ? r.clip.id : r.id);

/**
 * Keep the last record per clip id (a resumed run with retryFailed appends a newer line). All
 * records must be of one variant: mixing caption, baseline and permuted runs is an error.
 */
export function latestRecords(records: ParsedJudged[]): ParsedJudged[] {
  const variants = new Set(records.map(variantOf));
  if (variants.size > 1) throw bad(`judged records mix variants (${[...variants].join(', ')}); score each variant from its own file`);
  const byId = new Map<string, ParsedJudged>();
  for (const r of records) byId.set(idOf(r), r);
  return [...byId.values()];
}

const bad = (m: string): OmnicapError => new OmnicapError('INVALID_ARGUMENT', m);

/** Validate one judged line: output of cloze eval, or a judged row of the VLMEvalKit port. */
export function parseJudgedLine(v: unknown): ParsedJudged {
  if (typeof v !== 'object' || v === null) throw bad('judged line must be an object');
  const o = v as Record<string, unknown>;
  if (isPortJudgedRow(o)) {
    const p = parsePortJudgedRow(o);
    return { status: 'ok', clip: { ...p, variant: 'caption', judgeModel: String(o.judge_model ?? 'unknown') } };
  }
  if (typeof o.id !== 'string') throw bad('judged line is missing "id"');
  if (o.status === 'failed') return { status: 'failed', id: o.id, reason: typeof o.reason === 'string' ? o.reason : 'unknown', variant: String(o.variant ?? 'caption') };
  if (o.status !== 'ok') throw bad(`clip ${o.id}: status must be "ok" or "failed"`);
  if (!Array.isArray(o.blanks) || o.blanks.length === 0) throw bad(`clip ${o.id}: "blanks" must be a non-empty array`);
  const blanks: JudgedBlank[] = o.blanks.map((b: unknown) => {
    const r = (b ?? {}) as Record<string, unknown>;
    const id = typeof r.id === 'string' ? r.id : typeof r.id === 'number' ? String(r.id) : undefined;
    const modality = normalizeModality(r.modality);
    if (id === undefined || !isLetter(r.answer) || !isLetter(r.predicted) || modality === undefined) throw bad(`clip ${o.id}: blank needs id, answer A-E, predicted A-E and modality`);
    const jb: JudgedBlank = { id, answer: r.answer, predicted: r.predicted, modality };
    if (typeof r.category === 'string') jb.category = r.category;
    return jb;
  });
  const judge = (o.judge ?? {}) as Record<string, unknown>;
  return {
    status: 'ok',
    clip: { id: o.id, domain: String(o.domain ?? 'unknown'), category: String(o.category ?? 'unknown'), variant: String(o.variant ?? 'caption'), judgeModel: String(judge.model ?? 'unknown'), blanks },
  };
}

export interface Counts {
  blanks: number;
  correct: number;
  /** Chose E although the answer is a content option (omission). */
  notGiven: number;
  /** Chose a wrong option (hallucination). */
  wrong: number;
  /** Answered A-D (committed to a detail). */
  committed: number;
  /** Of those, the right option. */
  committedCorrect: number;
  /** Blanks whose answer is E (the caption under test lacks the detail). */
  absent: number;
  /** Of those, answered E. */
  absentE: number;
}
export interface Metrics extends Counts {
  clips: number;
  accuracy: number;
  notGivenRate: number;
  wrongRate: number;
  /** (correct - wrong) / total. */
  netScore: number;
  /** Share of A-D answers that are right (null without any). */
  precision: number | null;
  /** Share of blanks whose answer is E that were answered E (null without any). */
  absentERate: number | null;
  ci?: { accuracy: Interval; notGivenRate: Interval; wrongRate: Interval; netScore: Interval };
}

export function outcome(b: Pick<JudgedBlank, 'answer' | 'predicted'>): 'correct' | 'notGiven' | 'wrong' {
  if (b.predicted === b.answer) return 'correct';
  if (b.predicted === 'E') return 'notGiven';
  return 'wrong';
}

const emptyCounts = (): Counts => ({ blanks: 0, correct: 0, notGiven: 0, wrong: 0, committed: 0, committedCorrect: 0, absent: 0, absentE: 0 });

function count(blanks: Array<Pick<JudgedBlank, 'answer' | 'predicted'>>): Counts {
  const c = emptyCounts();
  for (const b of blanks) {
    c.blanks++;
    c[outcome(b)]++;
    if (b.predicted !== 'E') {
      c.committed++;
      if (b.predicted === b.answer) c.committedCorrect++;
    }
    if (b.answer === 'E') {
      c.absent++;
      if (b.predicted === 'E') c.absentE++;
    }
  }
  return c;
}
function addCounts(into: Counts, c: Counts): void {
  for (const k of Object.keys(into) as Array<keyof Counts>) into[k] += c[k];
}
const rates = (c: Counts) => {
  const t = c.blanks || 1;
  return {
    accuracy: c.correct / t,
    notGivenRate: c.notGiven / t,
    wrongRate: c.wrong / t,
    netScore: (c.correct - c.wrong) / t,
    precision: c.committed === 0 ? null : c.committedCorrect / c.committed,
    absentERate: c.absent === 0 ? null : c.absentE / c.absent,
  };
};

type Selector = (clip: OkClip) => JudgedBlank[];

function metricsFor(clips: OkClip[], select: Selector, bootstrap: number, seed: number): Metrics {
  const per = clips.map(select).filter((b) => b.length > 0);
  const c = count(per.flat());
  const m: Metrics = { ...c, clips: per.length, ...rates(c) };
  const ci = bootstrapIntervals(per.map(count), emptyCounts, addCounts, {
    accuracy: (p: Counts) => rates(p).accuracy,
    notGivenRate: (p: Counts) => rates(p).notGivenRate,
    wrongRate: (p: Counts) => rates(p).wrongRate,
    netScore: (p: Counts) => rates(p).netScore,
  }, bootstrap, seed);
  if (ci !== undefined) m.ci = ci;
  return m;
}

export interface ScoreOptions {
  bootstrap?: number;
  seed?: number;
}

export interface ScoreReport {
  clips: number;
  failedClips: number;
  failed: Array<{ id: string; reason: string }>;
  overall: Metrics;
  byModality: Record<string, Metrics>;
  byDomain: Record<string, Metrics>;
  byCategory: Record<string, Metrics>;
  bootstrap: { samples: number; seed: number };
}

export function scoreJudged(records: ParsedJudged[], options: ScoreOptions = {}): ScoreReport {
  const bootstrap = options.bootstrap ?? 1000;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(bootstrap) || bootstrap < 0 || bootstrap > 1_000_000) throw bad(`bootstrap must be an integer 0..1000000 but is ${bootstrap}`);
  const latest = latestRecords(records);
  const ok = latest.flatMap((r) => (r.status === 'ok' ? [r.clip] : []));
  const failed = latest.flatMap((r) => (r.status === 'failed' ? [{ id: r.id, reason: r.reason }] : []));
  const group = (keys: string[], sel: (k: string) => Selector): Record<string, Metrics> =>
    Object.fromEntries([...new Set(keys)].sort().map((k) => [k, metricsFor(ok, sel(k), bootstrap, seed)]));
  return {
    clips: ok.length,
    failedClips: failed.length,
    failed,
    overall: metricsFor(ok, (c) => c.blanks, bootstrap, seed),
    byModality: group(ok.flatMap((c) => c.blanks.map((b) => b.modality)), (k) => (c) => c.blanks.filter((b) => b.modality === k)),
    byDomain: group(ok.map((c) => c.domain), (k) => (c) => (c.domain === k ? c.blanks : [])),
    byCategory: group(ok.map((c) => c.category), (k) => (c) => (c.category === k ? c.blanks : [])),
    bootstrap: { samples: bootstrap, seed },
  };
}

/** Blank-level pairs (by clip id + blank id) between two sets of ok clips. */
function pairs(a: OkClip[], b: OkClip[]): Array<[JudgedBlank, JudgedBlank]> {
  const idx = new Map<string, JudgedBlank>();
  for (const c of b) for (const bl of c.blanks) idx.set(`${c.id}\u0000${bl.id}`, bl);
  const out: Array<[JudgedBlank, JudgedBlank]> = [];
  for (const c of a) for (const bl of c.blanks) {
    const o = idx.get(`${c.id}\u0000${bl.id}`);
    if (o !== undefined) out.push([bl, o]);
  }
  return out;
}

export interface Agreement {
  pairedBlanks: number;
  rawAgreement: number;
  /** Cohen's kappa over the letters A-E; null when chance agreement is 1. */
  kappa: number | null;
}

export function judgeAgreement(a: OkClip[], b: OkClip[]): Agreement {
  const ps = pairs(a, b);
  const n = ps.length;
  if (n === 0) return { pairedBlanks: 0, rawAgreement: 0, kappa: null };
  const po = ps.filter(([x, y]) => x.predicted === y.predicted).length / n;
  const letters: Letter[] = ['A', 'B', 'C', 'D', 'E'];
  const pe = letters.reduce((s, l) => s + (ps.filter(([x]) => x.predicted === l).length / n) * (ps.filter(([, y]) => y.predicted === l).length / n), 0);
  return { pairedBlanks: n, rawAgreement: po, kappa: pe === 1 ? null : (po - pe) / (1 - pe) };
}

export interface PermutationCheck {
  pairedBlanks: number;
  originalAccuracy: number;
  permutedAccuracy: number;
  accuracyDelta: number;
  /** Fraction of blanks with the same (original-letter) choice in both runs. */
  consistency: number;
}

export function permutationCheck(original: OkClip[], permuted: OkClip[]): PermutationCheck {
  const ps = pairs(original, permuted);
  const n = ps.length || 1;
  const oa = ps.filter(([x]) => x.predicted === x.answer).length / n;
  const pa = ps.filter(([, y]) => y.predicted === y.answer).length / n;
  return { pairedBlanks: ps.length, originalAccuracy: oa, permutedAccuracy: pa, accuracyDelta: pa - oa, consistency: ps.filter(([x, y]) => x.predicted === y.predicted).length / n };
}

export interface BaselineCheck {
  blanks: number;
  /** Accuracy of the judge with an empty caption (what the passage alone gives away). */
  accuracy: number;
  notGivenRate: number;
}

export function baselineCheck(baseline: OkClip[]): BaselineCheck {
  const c = count(baseline.flatMap((x) => x.blanks));
  const r = rates(c);
  return { blanks: c.blanks, accuracy: r.accuracy, notGivenRate: r.notGivenRate };
}

const pct2 = (x: number): string => `${(x * 100).toFixed(2)}%`;

/** The one-line summary of a score: accuracy, omission, hallucination, net, and (when defined) precision and E on absent details. */
export function formatScoreLine(m: Metrics): string {
  const extra = [
    m.precision !== null ? `precision of A-D answers ${pct2(m.precision)} (${m.committedCorrect}/${m.committed})` : '',
    m.absentERate !== null ? `E on absent details ${pct2(m.absentERate)} (${m.absentE}/${m.absent})` : '',
  ].filter((x) => x !== '');
  return `blanks ${m.blanks}: accuracy ${pct2(m.accuracy)}, not-given ${pct2(m.notGivenRate)}, wrong ${pct2(m.wrongRate)}, net ${m.netScore.toFixed(4)}${extra.length > 0 ? `, ${extra.join(', ')}` : ''}`;
}
