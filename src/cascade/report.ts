/** Self-contained HTML report of a cascade score: per-group bars, the no-caption baseline beside, chance marked. */
import { escapeHtml } from '../util/html';
import type { RejectedLine } from '../util/jsonl';
import { barChartSvg, pct, type BarRow } from '../cloze/report';
import type { MatchRule } from './match';
import type { CascadeScoreReport, GroupMetrics, RuleReport } from './score';

/** A line of a cascade output that `cascade score` could not read. */
export type CascadeRejectedLine = RejectedLine;

const CAPTION = '#4a7bd0';
const BASELINE = '#b0b0b0';
const RULE_NAMES: Record<MatchRule, string> = {
  choice: 'plain choice match (the chosen choice is the answer)',
  mmar: "MMAR's rule (every token of the answer in the prediction, no token unique to a wrong choice)",
};

const ciText = (m: GroupMetrics): string => (m.ci !== undefined ? ` [${pct(m.ci.low)}, ${pct(m.ci.high)}]` : '');

function rows(caption: Record<string, GroupMetrics> | undefined, baseline: Record<string, GroupMetrics> | undefined): BarRow[] {
  const keys = [...new Set([...Object.keys(caption ?? {}), ...Object.keys(baseline ?? {})])].sort();
  return keys.map((k) => {
    const bars = [];
    const c = caption?.[k];
    const b = baseline?.[k];
    if (c !== undefined) bars.push({ value: c.accuracy, ...(c.ci !== undefined ? { ci: c.ci } : {}), colour: CAPTION, text: `caption ${pct(c.accuracy)} (n=${c.questions})` });
    if (b !== undefined) bars.push({ value: b.accuracy, ...(b.ci !== undefined ? { ci: b.ci } : {}), colour: BASELINE, text: `no caption ${pct(b.accuracy)} (n=${b.questions})` });
    const chance = (c ?? b)?.chance;
    return { label: k, bars, ...(chance !== undefined ? { marker: chance } : {}) };
  });
}

function table(caption: Record<string, GroupMetrics> | undefined, baseline: Record<string, GroupMetrics> | undefined): string {
  const keys = [...new Set([...Object.keys(caption ?? {}), ...Object.keys(baseline ?? {})])].sort();
  const cell = (m: GroupMetrics | undefined): string => (m === undefined ? '<td>-</td><td>-</td>' : `<td>${m.questions}</td><td>${pct(m.accuracy)}${ciText(m)}</td>`);
  const body = keys.map((k) => `<tr><td>${escapeHtml(k)}</td>${cell(caption?.[k])}${cell(baseline?.[k])}<td>${pct((caption?.[k] ?? baseline?.[k])?.chance ?? 0)}</td></tr>`).join('');
  return `<table><tr><th>group</th><th>questions</th><th>with caption [95% CI]</th><th>questions</th><th>no caption [95% CI]</th><th>chance</th></tr>${body}</table>`;
}

function section(rule: MatchRule, c: RuleReport | undefined, b: RuleReport | undefined): string {
  const parts = [`<h2>${escapeHtml(RULE_NAMES[rule])}</h2>`];
  const views: Array<[string, (r: RuleReport) => Record<string, GroupMetrics>]> = [
    ['Overall', (r) => ({ overall: r.overall })],
    ['By modality', (r) => r.byModality],
    ['By category', (r) => r.byCategory],
    ['By sub-category', (r) => r.bySubCategory],
  ];
  for (const [title, pick] of views) {
    const cg = c !== undefined ? pick(c) : undefined;
    const bg = b !== undefined ? pick(b) : undefined;
    parts.push(barChartSvg(`${title}: accuracy with 95% CI (blue: with caption, grey: no caption, red dashes: chance)`, rows(cg, bg)), table(cg, bg));
  }
  return parts.join('\n');
}

export function renderCascadeHtml(report: CascadeScoreReport, meta: { input: string }, rejected: readonly CascadeRejectedLine[] = []): string {
  const c = report.caption;
  const b = report.baseline;
  const head = [
    c !== undefined ? `${c.questions} questions answered with captions by ${escapeHtml(c.models.join(', '))}, ${c.errors} failed calls (excluded)` : 'no answers with captions',
    b !== undefined ? `${b.questions} answered without a caption (baseline${c !== undefined ? ', same questions' : ''}), ${b.errors} failed calls` : 'no baseline run',
    `${rejected.length} lines rejected (unreadable, excluded)`,
    `bootstrap: ${report.bootstrap.samples} resamples of questions, seed ${report.bootstrap.seed}`,
  ];
  const perm = Object.entries(report.permutation).map(([v, p]) =>
    `<li>${escapeHtml(v)}: ${p.permutations} shuffled orders besides the original over ${p.questions} questions: same answer in every order ${pct(p.agreement)}, pairwise ${pct(p.pairwiseAgreement)}; accuracy by order ${p.accuracyByOrder.map(pct).join(', ')}</li>`).join('');
  const errors = [...(c?.errorList ?? []).map((e) => ({ ...e, v: 'caption' })), ...(b?.errorList ?? []).map((e) => ({ ...e, v: 'baseline' }))];
  return `<!doctype html><html><head><meta charset="utf-8"><title>Cascade QA report</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}td:first-child{text-align:left}</style></head><body>
<h1>Cascade QA report</h1>
<p>${escapeHtml(meta.input)}: ${head.join('; ')}.</p>
${c === undefined && b === undefined ? '<p><strong>Nothing was scored.</strong></p>' : ''}
${(['choice', 'mmar'] as const).map((r) => section(r, c?.rules[r], b?.rules[r])).join('\n')}
${perm !== '' ? `<h2>Choice order</h2><ul>${perm}</ul>` : ''}
${errors.length > 0 ? `<h2>Failed calls (${errors.length}, excluded)</h2><ul>${errors.slice(0, 200).map((e) => `<li>${escapeHtml(e.v)} ${escapeHtml(e.id)} (order ${e.perm}): ${escapeHtml(e.code)}: ${escapeHtml(e.message)}</li>`).join('')}</ul>` : ''}
${rejected.length > 0 ? `<h2>Rejected lines (${rejected.length})</h2><ul>${rejected.slice(0, 200).map((r) => `<li>line ${r.line}: ${escapeHtml(r.code)}: ${escapeHtml(r.message)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
