/**
 * Scoring of `cascade eval` output: accuracy overall and per modality, category and sub-category
 * under both named rules (plain choice match and MMAR's token rule), percentile-bootstrap 95 %
 * intervals over questions, the chance level of each group, the no-caption baseline on the same
 * questions, and the agreement of the answers across shuffled choice orders. Error lines (failed
 * calls) are counted and listed, never scored.
 */
import { dirname, resolve } from 'node:path';
import { OmnicapError } from '../errors';
import { bootstrapIntervals, type Interval } from '../cloze/bootstrap';
import { isRecord } from '../util/guards';
import { PREDICTION_FIELD, type CascadeInfo, type CascadeLine, type CascadeVariant, type QaFields } from './eval';
import { QA_LAYOUTS, normalizeChoice, parseQaItem, type QaLayout } from './layout';
import { MATCH_RULES, matches, type MatchRule } from './match';

export interface GroupMetrics {
  questions: number;
  correct: number;
  accuracy: number;
  /** Expected accuracy of a uniform guess over the shown choices. */
  chance: number;
  ci?: Interval;
}

export interface RuleReport {
  overall: GroupMetrics;
  byModality: Record<string, GroupMetrics>;
  byCategory: Record<string, GroupMetrics>;
  bySubCategory: Record<string, GroupMetrics>;
}

export interface VariantReport {
  /** Questions answered (shown order 0). */
  questions: number;
  errors: number;
  errorList: Array<{ id: string; perm: number; code: string; message: string }>;
  models: string[];
  rules: Record<MatchRule, RuleReport>;
}

export interface PermutationReport {
  /** Shuffled orders per question besides the original. */
  permutations: number;
  /** Questions answered in every order. */
  questions: number;
  /** Share of those whose answer (as a choice text) is the same in every order. */
  agreement: number;
  /** Mean agreement over all pairs of orders. */
  pairwiseAgreement: number;
  /** Plain-choice accuracy in each order (0 = the file's order). */
  accuracyByOrder: number[];
}

export interface CascadeScoreReport {
  caption?: VariantReport;
  /** The no-caption run, on the questions the caption run answered when there is one. */
  baseline?: VariantReport;
  permutation: Partial<Record<CascadeVariant, PermutationReport>>;
  bootstrap: { samples: number; seed: number };
}

const bad = (m: string): OmnicapError => new OmnicapError('INVALID_ARGUMENT', m);

const str = (x: unknown): x is string => typeof x === 'string';

/** Lines written before the question was kept only once carry its fields in `cascade` too. */
function legacyQuestion(c: Partial<CascadeLine>): QaFields | undefined {
  if (!Array.isArray(c.choices)) return undefined;
  if (!c.choices.every(str) || !str(c.answer) || !str(c.modality) || !str(c.category) || !str(c.subCategory)) throw bad(`question ${String(c.id)}: needs choices, answer, modality, category and subCategory`);
  return { media: str(c.media) ? c.media : '', question: str(c.question) ? c.question : '', choices: c.choices, answer: c.answer, answerIndex: typeof c.answerIndex === 'number' ? c.answerIndex : -1, modality: c.modality, category: c.category, subCategory: c.subCategory };
}

/** The question a line answered, read from the line's own fields as its QA file's layout reads them. */
function lineQuestion(line: Record<string, unknown>, c: CascadeInfo): QaFields {
  const { cascade: _call, [PREDICTION_FIELD[c.layout]]: _prediction, ...fields } = line;
  const q = parseQaItem(fields, c.layout, dirname(resolve(c.qa.file)), c.qa.line);
  if (q.id !== c.id) throw bad(`question ${c.id}: the line's own id is ${JSON.stringify(q.id)}`);
  return { media: q.media, question: q.question, choices: q.choices, answer: q.answer, answerIndex: q.answerIndex, modality: q.modality, category: q.category, subCategory: q.subCategory };
}

/**
 * Validate one output line: a `cascade` object (the call) beside the question's own fields, which
 * are read with the layout the call names. Lines of earlier versions (the question repeated under
 * `cascade`) are read too.
 */
export function parseCascadeLine(v: unknown): CascadeLine {
  const c = isRecord(v) && isRecord(v.cascade) ? (v.cascade as Partial<CascadeLine>) : undefined;
  if (c === undefined || !isRecord(v)) throw bad('not a cascade eval line (no "cascade" object)');
  if (!str(c.id) || (c.variant !== 'caption' && c.variant !== 'baseline') || !Number.isInteger(c.perm) || (c.status !== 'ok' && c.status !== 'error')) throw bad('cascade line needs id, variant caption|baseline, perm and status ok|error');
  if (!QA_LAYOUTS.includes(c.layout as QaLayout) || !isRecord(c.qa) || !str(c.qa.file) || !Number.isInteger(c.qa.line)) throw bad(`question ${c.id}: needs layout ${QA_LAYOUTS.join('|')} and qa {file, line}`);
  if (!str(c.model)) throw bad(`question ${c.id}: needs the answerer model`);
  if (c.status === 'ok' && !str(c.prediction)) throw bad(`question ${c.id}: an ok line needs a prediction`);
  const call = c as CascadeInfo;
  return { ...call, ...(legacyQuestion(c) ?? lineQuestion(v, call)) };
}

interface Scored {
  info: CascadeLine;
  correct: Record<MatchRule, boolean>;
  chance: number;
}

const chanceOf = (c: CascadeLine): number => c.choices.filter((x) => normalizeChoice(x) === normalizeChoice(c.answer)).length / c.choices.length;

interface Unit {
  n: number;
  k: number;
}

function metrics(rows: Scored[], rule: MatchRule, samples: number, seed: number): GroupMetrics {
  const correct = rows.filter((r) => r.correct[rule]).length;
  const m: GroupMetrics = { questions: rows.length, correct, accuracy: rows.length === 0 ? 0 : correct / rows.length, chance: rows.length === 0 ? 0 : rows.reduce((s, r) => s + r.chance, 0) / rows.length };
  const ci = bootstrapIntervals<Unit, 'accuracy'>(rows.map((r) => ({ n: 1, k: r.correct[rule] ? 1 : 0 })), () => ({ n: 0, k: 0 }), (a, u) => { a.n += u.n; a.k += u.k; }, { accuracy: (p) => (p.n === 0 ? 0 : p.k / p.n) }, samples, seed);
  if (ci !== undefined) m.ci = ci.accuracy;
  return m;
}

function groups(rows: Scored[], key: (c: CascadeLine) => string, rule: MatchRule, samples: number, seed: number): Record<string, GroupMetrics> {
  const keys = [...new Set(rows.map((r) => key(r.info)))].sort();
  return Object.fromEntries(keys.map((k) => [k, metrics(rows.filter((r) => key(r.info) === k), rule, samples, seed)]));
}

function variantReport(all: CascadeLine[], variant: CascadeVariant, only: Set<string> | undefined, samples: number, seed: number): VariantReport | undefined {
  const mine = all.filter((c) => c.variant === variant && (only === undefined || only.has(c.id)));
  if (mine.length === 0) return undefined;
  const ok = mine.filter((c) => c.perm === 0 && c.status === 'ok');
  const models = [...new Set(ok.map((c) => c.model))].sort();
  if (models.length > 1) throw bad(`the ${variant} answers come from ${models.length} answerer models (${models.join(', ')}); score each run from its own file`);
  const rows: Scored[] = ok.map((info) => ({
    info,
    correct: Object.fromEntries(MATCH_RULES.map((r) => [r, matches(r, info.answer, info.prediction as string, info.choices)])) as Record<MatchRule, boolean>,
    chance: chanceOf(info),
  }));
  const errs = mine.filter((c) => c.status === 'error');
  const rules = Object.fromEntries(MATCH_RULES.map((rule) => [rule, {
    overall: metrics(rows, rule, samples, seed),
    byModality: groups(rows, (c) => c.modality, rule, samples, seed),
    byCategory: groups(rows, (c) => c.category, rule, samples, seed),
    bySubCategory: groups(rows, (c) => c.subCategory, rule, samples, seed),
  }])) as Record<MatchRule, RuleReport>;
  return {
    questions: rows.length,
    errors: errs.length,
    errorList: errs.map((c) => ({ id: c.id, perm: c.perm, code: c.error?.code ?? 'UNKNOWN', message: c.error?.message ?? '' })),
    models,
    rules,
  };
}

function permutationReport(all: CascadeLine[], variant: CascadeVariant): PermutationReport | undefined {
  const mine = all.filter((c) => c.variant === variant && c.status === 'ok');
  const perms = Math.max(0, ...mine.map((c) => c.perm));
  if (perms === 0) return undefined;
  const byId = new Map<string, CascadeLine[]>();
  for (const c of mine) byId.set(c.id, [...(byId.get(c.id) ?? []), c]);
  const complete = [...byId.values()].filter((cs) => cs.length === perms + 1).map((cs) => [...cs].sort((a, b) => a.perm - b.perm));
  if (complete.length === 0) return { permutations: perms, questions: 0, agreement: 0, pairwiseAgreement: 0, accuracyByOrder: [] };
  const same = (a: CascadeLine, b: CascadeLine): boolean => normalizeChoice(a.prediction as string) === normalizeChoice(b.prediction as string);
  let pairs = 0;
  let agreeing = 0;
  for (const cs of complete) {
    for (let i = 0; i < cs.length; i++) for (let j = i + 1; j < cs.length; j++) {
      pairs++;
      if (same(cs[i], cs[j])) agreeing++;
    }
  }
  return {
    permutations: perms,
    questions: complete.length,
    agreement: complete.filter((cs) => cs.every((c) => same(c, cs[0]))).length / complete.length,
    pairwiseAgreement: agreeing / pairs,
    accuracyByOrder: Array.from({ length: perms + 1 }, (_, p) => complete.filter((cs) => matches('choice', cs[p].answer, cs[p].prediction as string, cs[p].choices)).length / complete.length),
  };
}

/** Keep the newest line per (question, variant, order): a rerun appends answers for former errors. */
export function latestCascade(lines: CascadeLine[]): CascadeLine[] {
  const m = new Map<string, CascadeLine>();
  for (const c of lines) m.set(`${c.variant}\u0000${c.perm}\u0000${c.id}`, c);
  return [...m.values()];
}

export function scoreCascade(lines: CascadeLine[], options: { bootstrap?: number; seed?: number } = {}): CascadeScoreReport {
  const samples = options.bootstrap ?? 1000;
  const seed = options.seed ?? 0;
  if (!Number.isInteger(samples) || samples < 0 || samples > 1_000_000) throw bad(`bootstrap must be an integer 0..1000000 but is ${samples}`);
  const all = latestCascade(lines);
  const caption = variantReport(all, 'caption', undefined, samples, seed);
  const paired = caption === undefined ? undefined : new Set(all.filter((c) => c.variant === 'caption' && c.perm === 0 && c.status === 'ok').map((c) => c.id));
  const baseline = variantReport(all, 'baseline', paired, samples, seed);
  const permutation: CascadeScoreReport['permutation'] = {};
  for (const v of ['caption', 'baseline'] as const) {
    const p = permutationReport(all, v);
    if (p !== undefined) permutation[v] = p;
  }
  const report: CascadeScoreReport = { permutation, bootstrap: { samples, seed } };
  if (caption !== undefined) report.caption = caption;
  if (baseline !== undefined) report.baseline = baseline;
  return report;
}
